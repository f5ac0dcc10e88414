import NIOSSL

/// A self-signed certificate for `localhost` / 127.0.0.1, made once with
/// `openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=localhost
/// -addext subjectAltName=DNS:localhost,IP:127.0.0.1`. Test-only; the key protects nothing.
enum SMTPTestCertificate {
    static let certificatePEM = """
-----BEGIN CERTIFICATE-----
MIIDJzCCAg+gAwIBAgIUYZSiqpYUdA9YWdZWkFUGkZOgBREwDQYJKoZIhvcNAQEL
BQAwFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjExNDYxMVoYDzIxMjYx
MTA4MTE0NjExWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwggEiMA0GCSqGSIb3DQEB
AQUAA4IBDwAwggEKAoIBAQCvT6vkqENI/DdFN4bVYDt9kYKa6P3mb8+mgubcADo3
wYom07XP7+EKr8jtRr/AsuKcAS+0pSdxndqINDpGppLav6TGBYUPFRyJPMOna8kj
mlj//hAjc6uVK5PAvGmFwnDYx4kmB20NhCfAzlyhzq9wXHAuSvDLiHgtPQ+G/ft8
Z0vfX5RnDdSJnId/o0QqNSh7idLdtrFry4H6F2Dcx6goOi5fN5R5AkHPcnqwoku1
rPtsrUtl8VslNWQ8T4fhN4iQFsfqXpo9fYnnW31Y7MS0w8th0pi3U2hyTkajbvfK
RUyjUF9+D8Mk+zTS7WUlJsvgaRmW2yg1JsX+nzxRJ25JAgMBAAGjbzBtMB0GA1Ud
DgQWBBRkFR75uV13vaV72kg8YoJI4nYoGDAfBgNVHSMEGDAWgBRkFR75uV13vaV7
2kg8YoJI4nYoGDAPBgNVHRMBAf8EBTADAQH/MBoGA1UdEQQTMBGCCWxvY2FsaG9z
dIcEfwAAATANBgkqhkiG9w0BAQsFAAOCAQEAhQPqf+acPJs6UkU6oXdrQ0uXQma8
tkr+FDSKtl5U2hCamLUKrkVJCkppGNOZ9ZuMubkW6egbAIypA8F8Qzcps4yq23YK
AArKbbhUz+b96PPTXlN0qKCV4jZoXpzaDd7/8wwN+DPFSE3g24WeyOTjALzeIQlK
Dn1lfV+u4lsH4HDmGZLdVcAeMtACw1Y8qw8PFPg1M2w326exm3skdylesuEjVeYl
Bs2NGcJqcKBK/9QbdXd3tiXUJzK7W8aJN3gQu7E+R1bYc6yaHge0ho4JTQHi91ZY
Q8JkhHMmpgarYaImH6fx1ojqdChWoSrbUVA8r8tVW5je9qjqS9iDbxTc3g==
-----END CERTIFICATE-----
"""

    static let privateKeyPEM = """
-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQCvT6vkqENI/DdF
N4bVYDt9kYKa6P3mb8+mgubcADo3wYom07XP7+EKr8jtRr/AsuKcAS+0pSdxndqI
NDpGppLav6TGBYUPFRyJPMOna8kjmlj//hAjc6uVK5PAvGmFwnDYx4kmB20NhCfA
zlyhzq9wXHAuSvDLiHgtPQ+G/ft8Z0vfX5RnDdSJnId/o0QqNSh7idLdtrFry4H6
F2Dcx6goOi5fN5R5AkHPcnqwoku1rPtsrUtl8VslNWQ8T4fhN4iQFsfqXpo9fYnn
W31Y7MS0w8th0pi3U2hyTkajbvfKRUyjUF9+D8Mk+zTS7WUlJsvgaRmW2yg1JsX+
nzxRJ25JAgMBAAECggEAGra+wESdoCkCuRLpgmk8F3nNV5KqYetmzn5C9II6XNWq
mhkHquxoM+suaG2v+YqoulH59YJ3HLqLmtaujKaEWT37u0sLCA3U/9qZC9GCYGD8
L+IEjoppOn1d8fAj+kRzUq0xKnDWPsmFDz3C4ssuc6Y6V+uGftVITshvrcfVAxMv
nJOHByGy8MUtDGblq4wflMIwMTJfwoJE9SeKXzY424D/aQXj0edFLLQ7b334Ibeu
mSgeudSlhMRpkpLYGT9XPiSo3pAVMjwlZq0GNCpCCSfShZ85RE6XLvWPquELuLQ/
PMkwtsDYEpoPBZQ/hLrtmRQmFCVCDDRCDebvrhx2SwKBgQDp6k9lwcDIC3qSgkae
F6rtDxW3puqV6X1yrwlb405GuPCmf0fWaVSAv4JEbqFzXVjg2BXGiOp0DRA6Zp2z
7l6mc4KRbKfPJ3Hju0c2a7b6ffi0gTC4vJn9w+uIfRB8YMps9saZXLnHlWNKTGBF
W80WNs8ccj4OUi1cCzdWqlAr0wKBgQC/3Oluzhe20ph+/dmxRrLpNCPlmisL3LEZ
kxnS0F3cLiP9t20WPJ0nW5nsGp5AUHAWtrgARQejHRGbussS1z2DHDWynvad6Ogx
ZfbM42FWg7NmAAdGhFwyXFX8fql5Ogf31XCm6+lv+BOjbKqM2XnY1UA88KTJW0G/
g9gi1x638wKBgQDlrNBKzKSah1LR2iK2heypmT8stTLvAXTQj3c0BwtLu7lm8eC6
cW+sft3MjYfvO3/SPbmb18HFMzJ09V7xViMPcqmIWtSmPUfBYJh6oebnK5twuMz7
Bwx4s89nk80FIxB/TwsPeJFdm5wDTtzUHWBQ6H4Ro0a1TxEEqGqsqMvRSwKBgQCd
5EHiYw5W8PZ4Q5Xb8u+XRMZp1Daqm2LPRiRRPhKP+RS7XjESxK0bz6FbEQi8qrWj
q5i++A/x5yEvhEhMZ/+CHzv9lB4mE57J0DyLnm/jT5zaSxmxqYlqFFza3q2/Ssd1
6Bu98pT4BTK8Idg081/31n73553k6wmvfuPmwBvSiwKBgQDdzO3OpAOK9FmmCwdU
NvtpW/k9WxZHcKVWahwZua8WHgXqj1gtEGO348FeB0df38UMt8+/yLYBr5306iOF
2bYzqHRCoca5ZTBOS9yrhcmB/xLpGr8U8Qber/yuf8Kjkcm07TAb/PwVhNE+qpG4
vQLqIGhxyFeCASqt7TEjyJouGw==
-----END PRIVATE KEY-----
"""

    /// A server context with the certificate and key.
    static func serverContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }
}

import Testing

@testable import MailCore

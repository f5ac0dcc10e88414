import Foundation
import GRDB
import GRDBSQLite
import HubModel

/// Binds a statement's parameters straight to SQLite, for the writer's statements that run for
/// every call and message (the event insert, a conversation's or a call's changed columns).
///
/// GRDB's `StatementArguments` boxes every value in an existential, converts it to a
/// `DatabaseValue` (a dynamic cast each) and binds through closures: that glue cost the writer
/// about as much as SQLite's own work on those statements. Here each value is bound by its type,
/// in order. A constraint violation or any other failure throws GRDB's `DatabaseError`, as GRDB's
/// `execute` does, and the statement is left reset with no bindings, ready for GRDB or for the
/// next run.
struct SQLBinder {
    fileprivate let handle: SQLiteStatement
    fileprivate var index: CInt = 1

    mutating func bind(_ value: String?) {
        defer { index += 1 }
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        // As a C string, up to a NUL, as GRDB binds text: a value must compare equal to itself
        // bound by either (a provider's message id looked up by GRDB, say).
        _ = value.withCString { sqlite3_bind_text(handle, index, $0, -1, sqliteTransient) }
    }

    mutating func bind(_ value: Int64?) {
        defer { index += 1 }
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        sqlite3_bind_int64(handle, index, value)
    }

    mutating func bind(_ value: Int?) { bind(value.map(Int64.init)) }

    mutating func bind(_ value: Double?) {
        defer { index += 1 }
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        sqlite3_bind_double(handle, index, value)
    }
}

/// SQLite's `SQLITE_TRANSIENT`: SQLite copies the bytes before the bind returns.
private let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

extension Statement {
    /// Runs this statement (one that returns no rows) with the parameters `bind` binds, each
    /// once, in order. Throws `DatabaseError` when SQLite refuses it, or when `bind` bound a
    /// number of parameters other than the statement's.
    func run(binding bind: (inout SQLBinder) throws -> Void) throws {
        _ = try step(binding: bind) { _ in () }
    }

    /// The first row of this query with the parameters `bind` binds, as `decode` reads it from
    /// the columns by position (nil when there is none). GRDB's `Row.fetchOne` copies every
    /// column into a row of its own and names them all, lower-cased, before the first is read.
    func fetchOne<T>(binding bind: (inout SQLBinder) throws -> Void, _ decode: (SQLColumns) throws -> T) throws -> T? {
        try step(binding: bind, decode)
    }

    private func step<T>(binding bind: (inout SQLBinder) throws -> Void, _ decode: (SQLColumns) throws -> T) throws -> T? {
        let handle = sqliteStatement
        // (A previous run's error was reported then; a reset now only returns it again.)
        _ = sqlite3_reset(handle)
        var binder = SQLBinder(handle: handle)
        // Left reset, with no bindings, ready for GRDB or for the next run.
        defer {
            _ = sqlite3_reset(handle)
            _ = sqlite3_clear_bindings(handle)
        }
        try bind(&binder)
        guard binder.index - 1 == sqlite3_bind_parameter_count(handle) else {
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "\(binder.index - 1) values bound for \(sqlite3_bind_parameter_count(handle)) parameters", sql: sql)
        }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return try decode(SQLColumns(handle: handle))
        case SQLITE_DONE: return nil
        case let code:
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))), sql: sql)
        }
    }
}

/// A row by column position, read from SQLite or from a GRDB row: the decoding of the rows read
/// for every call and message (`SQLiteRows`) is written once for both.
protocol PositionalRow {
    /// The column's text; nil for NULL.
    func text(at index: Int) -> String?
    /// The column's integer; nil for NULL.
    func integer(at index: Int) -> Int64?
}

extension PositionalRow {
    /// The column's text, or an error naming what is missing (a NOT NULL column read as NULL is
    /// a damaged database or a wrong column order, not a value).
    func requiredText(at index: Int, _ what: String) throws -> String {
        guard let text = text(at: index) else { throw StoreError(.unavailable, "stored \(what) is NULL") }
        return text
    }

    func requiredInteger(at index: Int, _ what: String) throws -> Int64 {
        guard let integer = integer(at: index) else { throw StoreError(.unavailable, "stored \(what) is NULL") }
        return integer
    }

    /// A timestamp column (milliseconds since 1970); nil for NULL.
    func date(at index: Int) -> Date? { integer(at: index).map(Date.init(millisecondsSince1970:)) }

    func requiredDate(at index: Int, _ what: String) throws -> Date { Date(millisecondsSince1970: try requiredInteger(at: index, what)) }
}

/// The current row of a statement being stepped (valid until the next step or reset).
struct SQLColumns: PositionalRow {
    fileprivate let handle: SQLiteStatement

    func text(at index: Int) -> String? {
        let column = CInt(index)
        guard sqlite3_column_type(handle, column) != SQLITE_NULL, let bytes = sqlite3_column_text(handle, column) else { return nil }
        // (As GRDB reads text: up to a NUL.)
        return String(cString: bytes)
    }

    func integer(at index: Int) -> Int64? {
        let column = CInt(index)
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        return sqlite3_column_int64(handle, column)
    }
}

extension Row: PositionalRow {
    func text(at index: Int) -> String? { self[index] }
    func integer(at index: Int) -> Int64? { self[index] }
}

/// A parameter's value, for statements whose columns are chosen at run time (a row's changed
/// columns): compared and bound without existentials.
enum SQLValue: Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    init(_ value: Int64?) { self = value.map(SQLValue.integer) ?? .null }
    init(_ value: Int?) { self = value.map { SQLValue.integer(Int64($0)) } ?? .null }
}

extension SQLBinder {
    mutating func bind(_ value: SQLValue) {
        switch value {
        case .null: bind(nil as Int64?)
        case .integer(let integer): bind(integer)
        case .real(let real): bind(real)
        case .text(let text): bind(text)
        }
    }
}

extension Statement {
    /// Runs this statement (one that returns no rows) with `values` bound in order.
    func run(_ values: [SQLValue]) throws {
        try run { row in
            for value in values { row.bind(value) }
        }
    }
}

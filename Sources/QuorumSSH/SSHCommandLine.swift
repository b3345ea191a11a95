/// The ssh command-line options operators put in Ansible's `ansible_ssh_common_args`/`ansible_ssh_extra_args`:
/// `-o Keyword=value`, `-J jumps`, `-F file`, `-i key`, `-p port`, `-l user`. Other options are ignored.
public struct SSHCommandLine: Sendable, Equatable {
    public var options: [SSHOption] = []
    /// `-F FILE`: read this file instead of `~/.ssh/config` and `/etc/ssh/ssh_config`.
    public var configFile: String?

    public init() {}

    /// ssh options that take no argument (accepted, ignored).
    static let flags = Set("46AaCfGgKkMNnqsTtVvXxY")
    /// ssh options that take an argument and are ignored here.
    static let ignoredWithArgument = Set("BbcDEeILmOPQRSWw")

    public static func parse(_ text: String, origin: String) throws -> SSHCommandLine {
        var result = SSHCommandLine()
        let words: [String]
        do { words = try ShellWords.split(text) } catch { throw SSHConfigError(at: origin, "\(error)") }
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            guard word.hasPrefix("-"), word.count >= 2 else { continue }  // positional words: not ours
            var letters = Array(word.dropFirst())
            while let letter = letters.first {
                letters.removeFirst()
                if flags.contains(letter) { continue }
                // An option with an argument: the rest of this word, or the next word.
                var argument = String(letters)
                letters.removeAll()
                if argument.isEmpty {
                    guard index < words.count else { throw SSHConfigError(at: origin, "ssh option -\(letter) needs an argument") }
                    argument = words[index]
                    index += 1
                }
                switch letter {
                case "o": result.options.append(try SSHOption.parse(argument, origin: origin))
                case "J": result.options.append(try SSHOption.parse("ProxyJump=\(argument)", origin: origin))
                case "i": result.options.append(SSHOption(keyword: "IdentityFile", arguments: [argument], origin: origin))
                case "p": result.options.append(try SSHOption.parse("Port=\(argument)", origin: origin))
                case "l": result.options.append(SSHOption(keyword: "User", arguments: [argument], origin: origin))
                case "F": result.configFile = argument
                default:
                    if !ignoredWithArgument.contains(letter) {
                        throw SSHConfigError(at: origin, "unknown ssh option -\(letter)")
                    }
                }
            }
        }
        return result
    }

    /// The jump host of the classic `ProxyCommand ssh [-q] [-p port] [-l user] -W %h:%p [user@]bastion`; nil for
    /// any other command (Quorum runs no proxy commands).
    public static func jump(fromProxyCommand command: String) -> SSHJump? {
        guard let words = try? ShellWords.split(command), let program = words.first,
            program == "ssh" || program.hasSuffix("/ssh")
        else { return nil }
        var forward: String?
        var port: Int?
        var user: String?
        var destination: String?
        var index = 1
        while index < words.count {
            let word = words[index]
            index += 1
            if ["-q", "-x", "-a", "-T", "-C", "-4", "-6", "-N"].contains(word) { continue }
            if ["-W", "-p", "-l"].contains(word) {
                guard index < words.count else { return nil }
                let value = words[index]
                index += 1
                switch word {
                case "-W": forward = value
                case "-p":
                    guard let number = Int(value) else { return nil }
                    port = number
                default: user = value
                }
                continue
            }
            guard !word.hasPrefix("-"), destination == nil else { return nil }
            destination = word
        }
        guard forward == "%h:%p", let destination, var jump = try? SSHJump.parse(destination) else { return nil }
        if jump.user == nil { jump.user = user }
        if jump.port == nil { jump.port = port }
        return jump
    }
}

/// POSIX-shell-like word splitting (single quotes, double quotes, backslashes), for ssh argument strings.
enum ShellWords {
    struct Unbalanced: Error, CustomStringConvertible {
        var description: String { "unbalanced quotes" }
    }

    static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            if let open = quote {
                if c == open { quote = nil } else if c == "\\", open == "\"", let next = iterator.next() { current.append(next) } else { current.append(c) }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                inWord = true
            case "\\":
                if let next = iterator.next() { current.append(next) }
                inWord = true
            case " ", "\t", "\n":
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(c)
                inWord = true
            }
        }
        if quote != nil { throw Unbalanced() }
        if inWord { words.append(current) }
        return words
    }
}

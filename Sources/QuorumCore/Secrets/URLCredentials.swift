/// The passwords written into URLs: `scheme://user:password@host`, and in a host list such as oslo.messaging's
/// `rabbit://u1:p1@h1,u2:p2@h2/`, each `,user:password@` after the first.
///
/// What the regular expression `(?:[A-Za-z][A-Za-z0-9+.\-]*://|,)[^:/@\s,]*:([^@\s,]+)@` matches, left to
/// right and without overlap, scanned by hand: a Swift regex literal is parsed again each time it is
/// evaluated, and the redactor looks at every string variable of every host.
enum URLCredentials {
    static func passwords(in text: String) -> [Substring] {
        guard text.utf8.contains(UInt8(ascii: "@")) else { return [] }
        var passwords: [Substring] = []
        var index = text.startIndex
        while index < text.endIndex {
            if let (password, next) = credential(in: text, at: index) {
                passwords.append(password)
                index = next
            } else {
                index = text.index(after: index)
            }
        }
        return passwords
    }

    /// The credential that starts at `start` (with its scheme or its comma): the password, and where the scan
    /// goes on (after the `@`).
    private static func credential(in text: String, at start: String.Index) -> (Substring, String.Index)? {
        let end = text.endIndex
        var index = start
        if text[index] == "," {
            index = text.index(after: index)
        } else if isASCIILetter(text[index]) {
            index = text.index(after: index)
            while index < end, isSchemeCharacter(text[index]) { index = text.index(after: index) }
            guard text[index...].hasPrefix("://") else { return nil }
            index = text.index(index, offsetBy: 3)
        } else {
            return nil
        }
        while index < end, !":/@,".contains(text[index]), !text[index].isWhitespace { index = text.index(after: index) }
        guard index < end, text[index] == ":" else { return nil }
        index = text.index(after: index)
        let passwordStart = index
        while index < end, !"@,".contains(text[index]), !text[index].isWhitespace { index = text.index(after: index) }
        guard index > passwordStart, index < end, text[index] == "@" else { return nil }
        return (text[passwordStart..<index], text.index(after: index))
    }

    private static func isASCIILetter(_ character: Character) -> Bool {
        character.isASCII && character.isLetter
    }

    private static func isSchemeCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "+.-".contains(character))
    }
}

/// Unified diffs (`--- a` / `+++ b` / `@@ … @@`) of two texts, line by line, on the standard library's
/// `CollectionDifference`.
public enum UnifiedDiff {
    public static func render(before: String?, after: String?, path: String, context: Int = 3) -> String {
        let old = lines(before)
        let new = lines(after)
        let difference = new.difference(from: old).inferringMoves()

        // Mark which old lines are removed and which new lines are inserted.
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        // Walk both sides together producing an edit script.
        enum Line { case same(String, Int, Int), del(String, Int), add(String, Int) }
        var script: [Line] = []
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if i < old.count, removed.contains(i) {
                script.append(.del(old[i], i))
                i += 1
            } else if j < new.count, inserted.contains(j) {
                script.append(.add(new[j], j))
                j += 1
            } else if i < old.count, j < new.count {
                script.append(.same(old[i], i, j))
                i += 1
                j += 1
            } else if i < old.count {
                script.append(.del(old[i], i))
                i += 1
            } else {
                script.append(.add(new[j], j))
                j += 1
            }
        }
        let changedIndexes = script.indices.filter { if case .same = script[$0] { return false } else { return true } }
        guard !changedIndexes.isEmpty else { return "" }

        var out = "--- \(before == nil ? "/dev/null" : path) (before)\n+++ \(after == nil ? "/dev/null" : path) (after)\n"
        // Group changes into hunks with `context` lines around them.
        var hunkStart = 0
        var k = 0
        while k < changedIndexes.count {
            hunkStart = max(0, changedIndexes[k] - context)
            var hunkEnd = min(script.count - 1, changedIndexes[k] + context)
            while k + 1 < changedIndexes.count, changedIndexes[k + 1] - context <= hunkEnd + 1 {
                k += 1
                hunkEnd = min(script.count - 1, changedIndexes[k] + context)
            }
            var oldStart = 0
            var newStart = 0
            var oldCount = 0
            var newCount = 0
            var body = ""
            var first = true
            for line in script[hunkStart...hunkEnd] {
                switch line {
                case .same(let text, let a, let b):
                    if first {
                        oldStart = a + 1
                        newStart = b + 1
                    }
                    oldCount += 1
                    newCount += 1
                    body += " \(text)\n"
                case .del(let text, let a):
                    if first {
                        oldStart = a + 1
                        newStart = positionInNew(script, hunkStart)
                    }
                    oldCount += 1
                    body += "-\(text)\n"
                case .add(let text, let b):
                    if first {
                        newStart = b + 1
                        oldStart = positionInOld(script, hunkStart)
                    }
                    newCount += 1
                    body += "+\(text)\n"
                }
                first = false
            }
            if oldCount == 0 { oldStart = max(0, oldStart - 1) }
            if newCount == 0 { newStart = max(0, newStart - 1) }
            out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n" + body
            k += 1
        }
        return out

        func positionInNew(_ script: [Line], _ index: Int) -> Int {
            var count = 0
            for line in script[..<index] { if case .del = line {} else { count += 1 } }
            return count + 1
        }
        func positionInOld(_ script: [Line], _ index: Int) -> Int {
            var count = 0
            for line in script[..<index] { if case .add = line {} else { count += 1 } }
            return count + 1
        }
    }

    static func lines(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}

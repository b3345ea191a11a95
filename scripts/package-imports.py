#!/usr/bin/env python3
"""Package.swift lists exactly what each target imports (issue 17): reads `swift package dump-package` on
stdin, the imports of every target's Swift files, and prints each difference. Exit 1 on any."""
import json
import pathlib
import re
import sys

# Modules of the toolchain and the system, which no target declares.
SYSTEM = {"Foundation", "FoundationEssentials", "FoundationXML", "FoundationNetworking", "Glibc", "Dispatch",
          "Synchronization", "Testing", "XCTest", "_Concurrency"}
IMPORT = re.compile(r"^(?:@\w+(?:\(\w+\))? )*import (?:(?:struct|class|enum|func|var|let|typealias|protocol) )?(\w+)(?:\.\w+)*\s*$")

C_INCLUDE = re.compile(r"^#include <(\w+)\.h>", re.MULTILINE)

package = json.load(sys.stdin)
problems = []
for target in package["targets"]:
    if target["type"] == "system":
        continue
    folder = pathlib.Path(target.get("path") or ("Tests" if target["type"] == "test" else "Sources")) / target["name"] \
        if not target.get("path") else pathlib.Path(target["path"])
    imported = set()
    # A C target imports another by its header: `#include <CSharedLibrary.h>`.
    for source in [*folder.rglob("*.c"), *folder.rglob("*.h")]:
        imported.update(C_INCLUDE.findall(source.read_text()))
    for source in folder.rglob("*.swift"):
        for line in source.read_text().splitlines():
            match = IMPORT.match(line)
            if match:
                imported.add(match.group(1))
    imported -= SYSTEM
    if not any(folder.rglob("*.swift")):
        # The headers of the system and of the C libraries (stdio.h, curl.h…) are no targets.
        imported &= {other["name"] for other in package["targets"]}
    declared = {next(iter(dependency.values()))[0] for dependency in target["dependencies"]}
    for name in sorted(imported - declared):
        problems.append(f"Package.swift: {target['name']} imports {name} but does not list it")
    for name in sorted(declared - imported):
        problems.append(f"Package.swift: {target['name']} lists {name} but no file of it imports it")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)

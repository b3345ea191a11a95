"""Checks the [keystone_authtoken] option names of an OpenStack service's configuration file.

oslo-config-validator skips [keystone_authtoken] (its options depend on the auth plugin), so this checks
each name against keystonemiddleware's own option data (`oslo-config-generator --format yaml --namespace
keystonemiddleware.auth_token`, from the same environment) plus the options of the keystoneauth1 plugin
named by `auth_type`. Unknown names, deprecated aliases and options deprecated for removal fail.

    <venv>/bin/python check-keystone-authtoken.py FILE...    # exit 0: all known and current; 1: not
Used by the lab tests (Tests/QuorumLabTests/MagnumTests.swift) with lab/state/venvs/magnum-validator.
"""
import configparser
import os
import subprocess
import sys

import yaml
from keystoneauth1 import loading

GROUP = "keystone_authtoken"


def middleware_options():
    generator = os.path.join(os.path.dirname(sys.executable), "oslo-config-generator")
    out = subprocess.run([generator, "--format", "yaml", "--namespace", "keystonemiddleware.auth_token"],
                         check=True, capture_output=True, text=True).stdout
    opts = yaml.safe_load(out)["options"][GROUP]["opts"]
    current = {o["name"]: o for o in opts}
    aliases = {d["name"]: o["name"] for o in opts for d in o.get("deprecated_opts") or []
               if (d.get("group") or GROUP) == GROUP}
    return current, aliases


def plugin_options(auth_type):
    return {o.dest for o in loading.get_plugin_loader(auth_type).get_options()}


def check(path, current, aliases):
    parser = configparser.RawConfigParser(strict=False, default_section="\0none")
    parser.read(path)
    if not parser.has_section(GROUP):
        return [f"{path}: no [{GROUP}] section"]
    names = list(parser[GROUP].keys())
    auth_type = parser[GROUP].get("auth_type")
    known_plugin = plugin_options(auth_type) if auth_type else set()
    problems = []
    for name in names:
        if name in current:
            if current[name].get("deprecated_for_removal"):
                problems.append(f"{path}: [{GROUP}] {name} is deprecated for removal")
        elif name in aliases:
            problems.append(f"{path}: [{GROUP}] {name} is a deprecated name of {aliases[name]}")
        elif name not in known_plugin:
            problems.append(f"{path}: [{GROUP}] {name} is not an option of keystonemiddleware"
                            f" nor of the auth plugin {auth_type!r}")
    return problems


def main(paths):
    current, aliases = middleware_options()
    problems = [p for path in paths for p in check(path, current, aliases)]
    for p in problems:
        print(p)
    if not problems:
        print(f"[{GROUP}] of {len(paths)} file(s): every option is known and current")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/bin/sh
# Regenerates the Ansible Vault fixtures with the real ansible-vault (see README.md here). Not run by the
# tests or CI: the files it writes are committed. Usage: PATH=/tmp/av/bin:$PATH sh make-fixtures.sh
set -eu
cd "$(dirname "$0")"
ansible-vault --version | head -n 1 > ansible-version.txt
cp plain-1.1.yml vault-1.1.yml
ansible-vault encrypt --vault-password-file password-default.txt vault-1.1.yml
cp plain-1.2.yml vault-1.2.yml
ansible-vault encrypt --vault-id prod@password-prod.txt vault-1.2.yml
{
    printf 'all:\n  vars:\n    region: RegionOne\n'
    ansible-vault encrypt_string --vault-password-file password-default.txt --name amqp_credential 'Fixture-Inline-Amqp-13' | sed '1s/^/    /'
    ansible-vault encrypt_string --vault-id prod@password-prod.txt --name db_credential 'Fixture-Inline-Db-14' | sed '1s/^/    /'
    printf '  hosts:\n    ctl1: {ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: root}\n'
} > inline-inventory.yml

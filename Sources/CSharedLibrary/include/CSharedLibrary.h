#ifndef CSHAREDLIBRARY_H
#define CSHAREDLIBRARY_H
#include <stddef.h>

/*
 * Opening a C library when it is first needed (dlopen) instead of at start-up: libcurl and MariaDB
 * Connector/C bring 29 more libraries with them (GnuTLS, Kerberos, LDAP…) whose loading, relocation and
 * constructors cost every run about 9 ms of CPU and 6 MiB of memory, though most runs use neither.
 *
 * Opens `soname` (RTLD_NOW | RTLD_LOCAL) and looks up `count` symbols, storing the address of `names[i]` in
 * `*slots[i]`. Returns 0; or -1 with the reason in `error` (NUL-terminated, cut to `error_size`), no slot
 * set and the library closed again. Not thread-safe: call it once, before any other thread uses the slots.
 */
int quorum_shared_library_open(const char *soname, const char *const *names, void **const *slots, size_t count,
                               char *error, size_t error_size);

#endif

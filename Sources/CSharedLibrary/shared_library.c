#include "CSharedLibrary.h"

#include <dlfcn.h>
#include <stdio.h>

int quorum_shared_library_open(const char *soname, const char *const *names, void **const *slots, size_t count,
                               char *error, size_t error_size) {
    void *library = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(error, error_size, "%s cannot be loaded: %s", soname, reason ? reason : "unknown error");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        dlerror();
        if (dlsym(library, names[i]) == NULL) {
            snprintf(error, error_size, "%s has no %s (a version this build does not know)", soname, names[i]);
            dlclose(library);
            return -1;
        }
    }
    for (size_t i = 0; i < count; i++) *slots[i] = dlsym(library, names[i]);
    return 0;
}

#include "CCurl.h"

#include <CSharedLibrary.h>

/* The soname of Debian's libcurl4 (scripts/package.sh reads this line for the package's Depends). */
#define QUORUM_CURL_SONAME "libcurl.so.4"

/* libcurl's functions, typed by curl.h's own declarations. */
static __typeof__(&curl_global_init) global_init;
static __typeof__(&curl_easy_init) easy_init;
static __typeof__(&curl_easy_cleanup) easy_cleanup;
static __typeof__(&curl_easy_reset) easy_reset;
static __typeof__(&curl_easy_perform) easy_perform;
static __typeof__(&curl_easy_strerror) easy_strerror;
static __typeof__(&curl_easy_setopt) easy_setopt;
static __typeof__(&curl_easy_getinfo) easy_getinfo;
static __typeof__(&curl_slist_append) slist_append;
static __typeof__(&curl_slist_free_all) slist_free_all;

const char *quorum_curl_load(void) {
    static char problem[512];
    const char *const names[] = {
        "curl_global_init", "curl_easy_init", "curl_easy_cleanup", "curl_easy_reset", "curl_easy_perform",
        "curl_easy_strerror", "curl_easy_setopt", "curl_easy_getinfo", "curl_slist_append", "curl_slist_free_all",
    };
    void **const slots[] = {
        (void **)&global_init, (void **)&easy_init, (void **)&easy_cleanup, (void **)&easy_reset,
        (void **)&easy_perform, (void **)&easy_strerror, (void **)&easy_setopt, (void **)&easy_getinfo,
        (void **)&slist_append, (void **)&slist_free_all,
    };
    _Static_assert(sizeof names / sizeof *names == sizeof slots / sizeof *slots, "one slot per name");
    int opened = quorum_shared_library_open(QUORUM_CURL_SONAME, names, slots, sizeof names / sizeof *names, problem,
                                            sizeof problem);
    return opened == 0 ? NULL : problem;
}

CURLcode quorum_curl_global_init(long flags) { return global_init(flags); }
CURL *quorum_curl_easy_init(void) { return easy_init(); }
void quorum_curl_easy_cleanup(CURL *handle) { easy_cleanup(handle); }
void quorum_curl_easy_reset(CURL *handle) { easy_reset(handle); }
CURLcode quorum_curl_easy_perform(CURL *handle) { return easy_perform(handle); }
const char *quorum_curl_easy_strerror(CURLcode code) { return easy_strerror(code); }
struct curl_slist *quorum_curl_slist_append(struct curl_slist *list, const char *text) {
    return slist_append(list, text);
}
void quorum_curl_slist_free_all(struct curl_slist *list) { slist_free_all(list); }

CURLcode quorum_curl_set_long(CURL *handle, CURLoption option, long value) {
    return easy_setopt(handle, option, value);
}
CURLcode quorum_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return easy_setopt(handle, option, value);
}
CURLcode quorum_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return easy_setopt(handle, option, value);
}
CURLcode quorum_curl_set_data_function(CURL *handle, CURLoption option, quorum_curl_data_fn value) {
    return easy_setopt(handle, option, value);
}
CURLcode quorum_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return easy_getinfo(handle, info, value);
}

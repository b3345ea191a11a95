#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
#include <curl/curl.h>

/*
 * curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed wrapper per
 * argument type libcurl documents for the options Quorum sets.
 */
typedef size_t (*quorum_curl_data_fn)(char *data, size_t size, size_t count, void *user);

static inline CURLcode quorum_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode quorum_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
/* Strings (copied by libcurl), lists, user data pointers and buffers. */
static inline CURLcode quorum_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
/* CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION share this signature. */
static inline CURLcode quorum_curl_set_data_function(CURL *handle, CURLoption option, quorum_curl_data_fn value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode quorum_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
#endif

#ifndef CCURL_H
#define CCURL_H
#include <curl/curl.h>

/*
 * libcurl, opened on first use (see CSharedLibrary.h): curl.h gives the types and constants, and these
 * functions call libcurl's through the addresses `quorum_curl_load` found. Nothing links libcurl itself, so
 * calling a `curl_…` function directly fails at link time instead of loading it at start-up.
 */

/* Opens libcurl: NULL, or why it failed. Once, before any other function here. */
const char *quorum_curl_load(void);

CURLcode quorum_curl_global_init(long flags);
CURL *quorum_curl_easy_init(void);
void quorum_curl_easy_cleanup(CURL *handle);
void quorum_curl_easy_reset(CURL *handle);
CURLcode quorum_curl_easy_perform(CURL *handle);
const char *quorum_curl_easy_strerror(CURLcode code);
struct curl_slist *quorum_curl_slist_append(struct curl_slist *list, const char *text);
void quorum_curl_slist_free_all(struct curl_slist *list);

/*
 * curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed wrapper per
 * argument type libcurl documents for the options Quorum sets.
 */
typedef size_t (*quorum_curl_data_fn)(char *data, size_t size, size_t count, void *user);

CURLcode quorum_curl_set_long(CURL *handle, CURLoption option, long value);
CURLcode quorum_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value);
/* Strings (copied by libcurl), lists, user data pointers and buffers. */
CURLcode quorum_curl_set_pointer(CURL *handle, CURLoption option, const void *value);
/* CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION share this signature. */
CURLcode quorum_curl_set_data_function(CURL *handle, CURLoption option, quorum_curl_data_fn value);
CURLcode quorum_curl_get_long(CURL *handle, CURLINFO info, long *value);

#endif

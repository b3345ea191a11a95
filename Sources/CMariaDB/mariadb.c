#include "CMariaDB.h"

#include <CSharedLibrary.h>
#include <stdio.h>

/* The soname of Debian's libmariadb3 (scripts/package.sh reads this line for the package's Depends). */
#define QUORUM_MARIADB_SONAME "libmariadb.so.3"

/* The library's functions, typed by mysql.h's own declarations. */
static __typeof__(&mysql_server_init) server_init;
static __typeof__(&mysql_thread_end) thread_end;
static __typeof__(&mysql_init) init;
static __typeof__(&mysql_options) options;
static __typeof__(&mysql_real_connect) real_connect;
static __typeof__(&mysql_close) close_;
static __typeof__(&mysql_real_escape_string) real_escape_string;
static __typeof__(&mysql_real_query) real_query;
static __typeof__(&mysql_affected_rows) affected_rows;
static __typeof__(&mysql_field_count) field_count;
static __typeof__(&mysql_store_result) store_result;
static __typeof__(&mysql_free_result) free_result;
static __typeof__(&mysql_num_fields) num_fields;
static __typeof__(&mysql_fetch_row) fetch_row;
static __typeof__(&mysql_fetch_lengths) fetch_lengths;
static __typeof__(&mysql_errno) errno_;
static __typeof__(&mysql_error) error_;
static __typeof__(&mysql_sqlstate) sqlstate;

const char *quorum_mysql_load(void) {
    static char problem[512];
    const char *const names[] = {
        "mysql_server_init", "mysql_thread_end", "mysql_init", "mysql_options", "mysql_real_connect", "mysql_close",
        "mysql_real_escape_string", "mysql_real_query", "mysql_affected_rows", "mysql_field_count",
        "mysql_store_result", "mysql_free_result", "mysql_num_fields", "mysql_fetch_row", "mysql_fetch_lengths",
        "mysql_errno", "mysql_error", "mysql_sqlstate",
    };
    void **const slots[] = {
        (void **)&server_init, (void **)&thread_end, (void **)&init, (void **)&options, (void **)&real_connect,
        (void **)&close_, (void **)&real_escape_string, (void **)&real_query, (void **)&affected_rows,
        (void **)&field_count, (void **)&store_result, (void **)&free_result, (void **)&num_fields,
        (void **)&fetch_row, (void **)&fetch_lengths, (void **)&errno_, (void **)&error_, (void **)&sqlstate,
    };
    _Static_assert(sizeof names / sizeof *names == sizeof slots / sizeof *slots, "one slot per name");
    if (quorum_shared_library_open(QUORUM_MARIADB_SONAME, names, slots, sizeof names / sizeof *names, problem,
                                   sizeof problem) != 0) {
        return problem;
    }
    /* Not thread-safe in Connector/C: done here, once, before any connection. */
    if (server_init(0, NULL, NULL) != 0) {
        snprintf(problem, sizeof problem, "%s could not be initialised (mysql_server_init failed)",
                 QUORUM_MARIADB_SONAME);
        return problem;
    }
    return NULL;
}

void quorum_mysql_thread_end(void) {
    if (thread_end != NULL) thread_end();
}

MYSQL *quorum_mysql_init(MYSQL *mysql) { return init(mysql); }
int quorum_mysql_options(MYSQL *mysql, enum mysql_option option, const void *value) {
    return options(mysql, option, value);
}
MYSQL *quorum_mysql_real_connect(MYSQL *mysql, const char *host, const char *user, const char *password,
                                 const char *database, unsigned int port, const char *socket,
                                 unsigned long flags) {
    return real_connect(mysql, host, user, password, database, port, socket, flags);
}
void quorum_mysql_close(MYSQL *mysql) { close_(mysql); }
unsigned long quorum_mysql_real_escape_string(MYSQL *mysql, char *to, const char *from, unsigned long length) {
    return real_escape_string(mysql, to, from, length);
}
int quorum_mysql_real_query(MYSQL *mysql, const char *query, unsigned long length) {
    return real_query(mysql, query, length);
}
my_ulonglong quorum_mysql_affected_rows(MYSQL *mysql) { return affected_rows(mysql); }
unsigned int quorum_mysql_field_count(MYSQL *mysql) { return field_count(mysql); }
MYSQL_RES *quorum_mysql_store_result(MYSQL *mysql) { return store_result(mysql); }
void quorum_mysql_free_result(MYSQL_RES *result) { free_result(result); }
unsigned int quorum_mysql_num_fields(MYSQL_RES *result) { return num_fields(result); }
MYSQL_ROW quorum_mysql_fetch_row(MYSQL_RES *result) { return fetch_row(result); }
unsigned long *quorum_mysql_fetch_lengths(MYSQL_RES *result) { return fetch_lengths(result); }
unsigned int quorum_mysql_errno(MYSQL *mysql) { return errno_(mysql); }
const char *quorum_mysql_error(MYSQL *mysql) { return error_(mysql); }
const char *quorum_mysql_sqlstate(MYSQL *mysql) { return sqlstate(mysql); }

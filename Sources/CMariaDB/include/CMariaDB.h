#ifndef CMARIADB_H
#define CMARIADB_H
#include <mariadb/mysql.h>

/*
 * MariaDB Connector/C, opened on first use (see CSharedLibrary.h): mysql.h gives the types and constants,
 * and these functions call the library's through the addresses `quorum_mysql_load` found. Nothing links
 * libmariadb itself, so calling a `mysql_…` function directly fails at link time.
 */

/* Opens libmariadb and initialises it (mysql_server_init): NULL, or why it failed. Once, before any other
 * function here. */
const char *quorum_mysql_load(void);

/* Does nothing when the library was never opened (a thread that made no connection). */
void quorum_mysql_thread_end(void);

MYSQL *quorum_mysql_init(MYSQL *mysql);
int quorum_mysql_options(MYSQL *mysql, enum mysql_option option, const void *value);
MYSQL *quorum_mysql_real_connect(MYSQL *mysql, const char *host, const char *user, const char *password,
                                 const char *database, unsigned int port, const char *socket,
                                 unsigned long flags);
void quorum_mysql_close(MYSQL *mysql);
unsigned long quorum_mysql_real_escape_string(MYSQL *mysql, char *to, const char *from, unsigned long length);
int quorum_mysql_real_query(MYSQL *mysql, const char *query, unsigned long length);
my_ulonglong quorum_mysql_affected_rows(MYSQL *mysql);
unsigned int quorum_mysql_field_count(MYSQL *mysql);
MYSQL_RES *quorum_mysql_store_result(MYSQL *mysql);
void quorum_mysql_free_result(MYSQL_RES *result);
unsigned int quorum_mysql_num_fields(MYSQL_RES *result);
MYSQL_ROW quorum_mysql_fetch_row(MYSQL_RES *result);
unsigned long *quorum_mysql_fetch_lengths(MYSQL_RES *result);
unsigned int quorum_mysql_errno(MYSQL *mysql);
const char *quorum_mysql_error(MYSQL *mysql);
const char *quorum_mysql_sqlstate(MYSQL *mysql);

#endif

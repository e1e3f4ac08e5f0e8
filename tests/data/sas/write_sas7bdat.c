/* Writes a numeric CSV (header row, comma-separated, no quoting) as a SAS7BDAT file with ReadStat's
 * writer, the library behind pyreadstat. pyreadstat has no Python writer for SAS7BDAT, so this is
 * how tests get a real file. Build and run with make_sas7bdat.sh beside this file.
 *
 * usage: write_sas7bdat IN.csv OUT.sas7bdat TABLE_LABEL
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readstat.h"

#define MAX_COLS 64
#define MAX_ROWS 100000

static ssize_t write_bytes(const void *data, size_t len, void *ctx) {
    return write(*(int *)ctx, data, len);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s IN.csv OUT.sas7bdat LABEL\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) { perror(argv[1]); return 1; }
    static char line[65536];
    char *names[MAX_COLS];
    int n_cols = 0;
    if (!fgets(line, sizeof line, in)) { fprintf(stderr, "empty input\n"); return 1; }
    line[strcspn(line, "\r\n")] = 0;
    for (char *tok = strtok(line, ","); tok && n_cols < MAX_COLS; tok = strtok(NULL, ","))
        names[n_cols++] = strdup(tok);

    static double values[MAX_ROWS][MAX_COLS];
    int n_rows = 0;
    while (n_rows < MAX_ROWS && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line) continue;
        char *cursor = line;
        for (int c = 0; c < n_cols; c++) {
            char *end = strchr(cursor, ',');
            if (end) *end = 0;
            values[n_rows][c] = strtod(cursor, NULL);
            cursor = end ? end + 1 : cursor + strlen(cursor);
        }
        n_rows++;
    }
    fclose(in);

    int fd = open(argv[2], O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) { perror(argv[2]); return 1; }
    readstat_writer_t *writer = readstat_writer_init();
    readstat_set_data_writer(writer, &write_bytes);
    readstat_writer_set_file_label(writer, argv[3]);
    readstat_variable_t *vars[MAX_COLS];
    for (int c = 0; c < n_cols; c++)
        vars[c] = readstat_add_variable(writer, names[c], READSTAT_TYPE_DOUBLE, 0);
    readstat_error_t error = readstat_begin_writing_sas7bdat(writer, &fd, n_rows);
    for (int r = 0; r < n_rows && error == READSTAT_OK; r++) {
        error = readstat_begin_row(writer);
        for (int c = 0; c < n_cols && error == READSTAT_OK; c++)
            error = readstat_insert_double_value(writer, vars[c], values[r][c]);
        if (error == READSTAT_OK) error = readstat_end_row(writer);
    }
    if (error == READSTAT_OK) error = readstat_end_writing(writer);
    readstat_writer_free(writer);
    close(fd);
    if (error != READSTAT_OK) {
        fprintf(stderr, "ReadStat: %s\n", readstat_error_message(error));
        return 1;
    }
    return 0;
}

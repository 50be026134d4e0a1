package io.github.pgiplisten.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The figures of a run as one Markdown table ({@code | figure | ours | raw pgjdbc | note |}), the form BENCHMARKS.md
 * quotes: printed at the end of the run, after every section, so that notes comparing two sections can be added.
 */
final class ResultsTable {

    /** A line of the table; its note can gain a comparison with another section's figures of the same run. */
    static final class Row {
        private final String figure;
        private final String ours;
        private final String raw;
        private String note;

        private Row(String figure, String ours, String raw, String note) {
            this.figure = figure;
            this.ours = ours;
            this.raw = raw;
            this.note = note;
        }

        void addNote(String more) {
            note = note.isEmpty() ? more : note + "; " + more;
        }

        @Override
        public String toString() {
            return "| " + figure + " | " + ours + " | " + raw + " | " + note + " |";
        }
    }

    private final List<Row> rows = new ArrayList<>();

    /** A row; {@code ours} or {@code raw} is empty where only one side has the figure. */
    Row add(String figure, String ours, String raw, String note) {
        Row row = new Row(figure, ours, raw, note);
        rows.add(row);
        return row;
    }

    List<String> lines() {
        List<String> lines = new ArrayList<>();
        lines.add("| figure | ours | raw pgjdbc | note |");
        lines.add("| --- | --- | --- | --- |");
        rows.forEach(row -> lines.add(row.toString()));
        return lines;
    }

    /** Prints the table after a blank line, and writes it to {@code file} when its directory exists. */
    void print(PrintStream out, Path file) throws IOException {
        List<String> lines = lines();
        out.println();
        lines.forEach(out::println);
        if (file.getParent() != null && Files.isDirectory(file.getParent())) {
            Files.write(file, lines, StandardCharsets.UTF_8);
        }
    }
}

package io.github.pgiplisten.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The figures of a run as one Markdown table ({@code | figure | ours | raw pgjdbc | note |}), the form BENCHMARKS.md
 * quotes: printed at the end of the run, after every section, so that notes comparing two sections can be added. Each
 * row carries the goals its note states as values, which {@link GoalCheck} evaluates.
 */
final class ResultsTable {

    /**
     * A line of the table; its note and its goals can gain a comparison with another section's figures of the same
     * run.
     */
    static final class Row {
        private final String figure;
        private final String ours;
        private final String raw;
        private String note;
        private final List<Goal> goals;

        private Row(String figure, String ours, String raw, String note, List<Goal> goals) {
            this.figure = figure;
            this.ours = ours;
            this.raw = raw;
            this.note = note;
            this.goals = new ArrayList<>(goals);
        }

        void addNote(String more) {
            note = note.isEmpty() ? more : note + "; " + more;
        }

        /** Puts {@code goal} in place of the row's goal of the same name (one the run could not check before). */
        void replaceGoal(Goal goal) {
            goals.removeIf(old -> old.name().equals(goal.name()));
            goals.add(goal);
        }

        String figure() {
            return figure;
        }

        List<Goal> goals() {
            return Collections.unmodifiableList(goals);
        }

        @Override
        public String toString() {
            return "| " + figure + " | " + ours + " | " + raw + " | " + note + " |";
        }
    }

    private final List<Row> rows = new ArrayList<>();

    /**
     * A row; {@code ours} or {@code raw} is empty where only one side has the figure. The goals are ours' and are
     * also in the note's words (see {@link Goal#describe}).
     */
    Row add(String figure, String ours, String raw, String note, Goal... goals) {
        Row row = new Row(figure, ours, raw, note, List.of(goals));
        rows.add(row);
        return row;
    }

    List<Row> rows() {
        return Collections.unmodifiableList(rows);
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

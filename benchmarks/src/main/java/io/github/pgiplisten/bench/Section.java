package io.github.pgiplisten.bench;

/**
 * One part of the benchmark run, chosen by its name on {@code ./run-benchmarks}' command line: it measures ours and
 * raw pgjdbc side by side and adds its figures to the table, so every section's rows look alike.
 */
interface Section {

    void run(ResultsTable table) throws Exception;
}

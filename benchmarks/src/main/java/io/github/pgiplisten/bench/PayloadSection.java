package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.ROUNDS;
import static io.github.pgiplisten.bench.Benchmarks.log;

import java.util.List;
import java.util.Locale;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Payload size (issue 24): the batched throughput runs ({@link ThroughputSection#rates}: four publishers as fast as
 * they can, 100 notifications per transaction, to a listener method of ours and to the raw pgjdbc loop, alternating
 * which goes first) with payloads of 16 B, 1 KB (1 024 bytes) and 7.9 KB (7 900 bytes, under PostgreSQL's limit of
 * 8 000), in MB/s (10^6 bytes of payload a second) and notifications/s. One row per size.
 */
final class PayloadSection implements Section {

    /** The payload sizes in bytes (ASCII: one byte a character). */
    static final List<Integer> SIZES = List.of(16, 1024, 7900);

    private final ThroughputSection throughput;

    PayloadSection(PostgresServer server) {
        this.throughput = new ThroughputSection(server);
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("payload size: " + SIZES + " bytes, 4 publishers, 100 per transaction, 5 s per run, " + ROUNDS
                + " runs each, alternating");
        for (int size : SIZES) {
            ThroughputSection.Rates rates =
                    throughput.rates(size + " B", 1, true, sized(size), ThroughputSection.Sinks.COUNT);
            double againstRaw = rates.oursOverRaw();
            Goal goal = ThroughputSection.RATE_AGAINST_RAW.of(againstRaw);
            table.add(
                    "payload of " + label(size) + ": throughput to a listener method (batched, 100 per transaction), "
                            + "MB/s; notifications/s",
                    megabytes(rates.ours(), size),
                    megabytes(rates.raw(), size),
                    String.format(Locale.ROOT, "%.2f × raw (%s)", againstRaw, goal),
                    goal);
        }
    }

    /** "16 B", "1 KB", "7.9 KB" as the issue names them. */
    private static String label(int size) {
        if (size == 1024) {
            return "1 KB";
        }
        return size < 1000 ? size + " B" : String.format(Locale.ROOT, "%.1f KB (%d bytes)", size / 1000.0, size);
    }

    /** "12.3 (11.0–13.1); 145000": MB/s, median and range of the runs, and the median rate. */
    private static String megabytes(List<Double> rates, int size) {
        List<Double> perSecond = rates.stream().map(rate -> rate * size / 1e6).toList();
        return Stats.medianAndSpread(perSecond, "%.1f") + String.format(Locale.ROOT, "; %.0f", Stats.median(rates));
    }

    /**
     * Payloads of exactly {@code bytes}: the sequence number (distinct within a transaction, which PostgreSQL would
     * otherwise fold), padded.
     */
    static Publishers.Payloads sized(int bytes) {
        String padding = "x".repeat(bytes);
        return (publisher, sequence) -> {
            String number = Long.toString(sequence);
            return number + padding.substring(number.length());
        };
    }
}

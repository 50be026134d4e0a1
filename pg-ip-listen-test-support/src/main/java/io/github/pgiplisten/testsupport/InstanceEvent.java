package io.github.pgiplisten.testsupport;

import java.io.PrintStream;
import java.util.Optional;

/**
 * Something an instance JVM reports to the harness that started it, and the one line format every instance prints
 * it in: {@code ev <epoch micros> <kind>[ <detail>]}, for example {@code ev 1764000000123456 handled n42}. The
 * moment is when it happened, not when it was printed: an instance that must not print on a measured path reports
 * afterwards with the moment it took then. Lines that do not start with {@code ev } are ordinary output (logs).
 *
 * @param micros when it happened (see {@link EpochMicros})
 * @param kind one word: {@code ready}, {@code leader}, {@code handled}, …
 * @param detail the rest of the line, possibly empty: a payload, a count, a reason
 */
public record InstanceEvent(long micros, String kind, String detail) {

    private static final String PREFIX = "ev ";

    /** The event on {@code line}, or empty when the line is ordinary output. */
    public static Optional<InstanceEvent> parse(String line) {
        if (!line.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String[] parts = line.split(" ", 4);
        if (parts.length < 3) {
            return Optional.empty();
        }
        return Optional.of(new InstanceEvent(Long.parseLong(parts[1]), parts[2], parts.length > 3 ? parts[3] : ""));
    }

    /** The line for an event; the inverse of {@link #parse}. */
    public static String format(long micros, String kind, String detail) {
        return PREFIX + micros + " " + kind + (detail.isEmpty() ? "" : " " + detail);
    }

    /**
     * Prints the event on {@code out} as one line and flushes it: the harness reads it at once, and a line from
     * another thread never lands inside it.
     */
    public static void print(PrintStream out, long micros, String kind, String detail) {
        String line = format(micros, kind, detail);
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    /** Prints the event as it happens now, on {@code System.out}. */
    public static void print(String kind, String detail) {
        print(System.out, EpochMicros.now(), kind, detail);
    }

    /** The detail as a number (a count, a pid, a size). */
    public long detailAsLong() {
        return Long.parseLong(detail);
    }

    @Override
    public String toString() {
        return format(micros, kind, detail);
    }
}

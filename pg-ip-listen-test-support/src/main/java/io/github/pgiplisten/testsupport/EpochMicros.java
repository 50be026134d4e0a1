package io.github.pgiplisten.testsupport;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The one clock of a fleet harness: microseconds since the epoch. A takeover is measured from a moment in the
 * harness's JVM (the signal) to a moment in another JVM (the first notification handled), and some moments come from
 * the server ({@code clock_timestamp()}) or from the engine's events ({@link Instant}s); only the wall clock is shared
 * by all of them. {@link Instant#now()} reads it with microsecond precision on Linux, so a figure in tenths of a
 * millisecond loses nothing; in-JVM durations that need no other party still use {@link System#nanoTime()}.
 */
public final class EpochMicros {

    private EpochMicros() {}

    public static long now() {
        return of(Instant.now());
    }

    /** Plain arithmetic, no {@code ChronoUnit}: instances call this on measured paths, so it stays a few nanoseconds. */
    public static long of(Instant instant) {
        return instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1000;
    }

    public static Instant toInstant(long micros) {
        return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
    }

    /** From one moment to a later one, in milliseconds (fractions kept: the figures have tenths and hundredths). */
    public static double millisBetween(long fromMicros, long toMicros) {
        return (toMicros - fromMicros) / 1000.0;
    }
}

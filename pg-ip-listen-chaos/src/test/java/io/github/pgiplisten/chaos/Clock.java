package io.github.pgiplisten.chaos;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** Epoch microseconds: the instances report in them, so times compare across the JVMs of one machine. */
final class Clock {

    private Clock() {
    }

    static long micros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }
}

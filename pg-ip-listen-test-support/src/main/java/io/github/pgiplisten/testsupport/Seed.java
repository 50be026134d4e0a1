package io.github.pgiplisten.testsupport;

import java.util.Random;

/**
 * The seed of a test that generates its cases: a new one each run, or the one given with
 * {@code -Dpgiplisten.seed=N} to replay a failure. {@link #check} names it in every failure.
 */
public final class Seed {

    /** The system property that fixes the seed. */
    public static final String PROPERTY = "pgiplisten.seed";

    private final long value;

    private Seed(long value) {
        this.value = value;
    }

    /** The seed from {@value #PROPERTY}, or a new one. */
    public static Seed fromSystemProperty() {
        String given = System.getProperty(PROPERTY);
        if (given != null && !given.isBlank()) {
            return new Seed(Long.parseLong(given.trim()));
        }
        return new Seed(new Random().nextLong());
    }

    public long value() {
        return value;
    }

    /** A generator of this seed; each call starts the same sequence again. */
    public Random random() {
        return new Random(value);
    }

    /** Runs generated checks; any failure comes back as an {@link AssertionError} that names the seed first. */
    public void check(Checks checks) {
        try {
            checks.run();
        } catch (Throwable failure) {
            if (failure instanceof VirtualMachineError fatal) {
                throw fatal;
            }
            throw new AssertionError(this + ": " + failure.getMessage(), failure);
        }
    }

    @Override
    public String toString() {
        return "seed " + value + " (replay with -D" + PROPERTY + "=" + value + ")";
    }

    /** Checks that may throw anything. */
    @FunctionalInterface
    public interface Checks {
        void run() throws Throwable;
    }
}

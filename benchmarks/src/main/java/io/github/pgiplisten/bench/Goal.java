package io.github.pgiplisten.bench;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

/**
 * One goal of BENCHMARKS.md on a figure of one run: what ours measured, the bound it must stay at or under (or at or
 * above), and how the goal reads in the table's note. A section declares each of its goals once, as a {@link Target},
 * and makes the row's goal from it, so that the note and {@code ./run-benchmarks --check} read the same bound.
 *
 * @param name what is measured, as the check names it ("p99, ms", "lost")
 * @param phrase how the goal reads in a note, without the word "goal" ("≤ 10", "p99 ≤ 20", "0 lost")
 * @param notCheckedBecause why this run could not evaluate the goal (a section it compares with did not run), or
 *        {@code null}
 * @param floor what the warm floor of the same run measured for the same figure, where that misses the bound too (the
 *        goal is out of reach on this machine: {@link Target#reachable}); NaN otherwise
 * @param standIn the goal the run holds ours to instead where the bound is out of reach (a bound over the floor), or
 *        {@code null}
 */
record Goal(
        String name,
        String phrase,
        Comparison comparison,
        double bound,
        double measured,
        @Nullable String notCheckedBecause,
        double floor,
        @Nullable Goal standIn) {

    /** Which side of the bound the figure must stay on. */
    enum Comparison {
        AT_MOST("≤"),
        AT_LEAST("≥");

        private final String symbol;

        Comparison(String symbol) {
            this.symbol = symbol;
        }

        /** False for a figure the run did not get (NaN): a measurement that broke must not pass. */
        boolean holds(double measured, double bound) {
            return this == AT_MOST ? measured <= bound : measured >= bound;
        }
    }

    enum Verdict {
        MET,
        MISSED,
        NOT_CHECKED,
        /**
         * Missed, but the warm floor of the same run (the same steps in bare pgjdbc) misses the bound too, and ours
         * meets the stand-in goal over that floor: the bound is out of this machine's reach, which the run shows.
         */
        OUT_OF_REACH
    }

    static Target atMost(String name, double bound) {
        return new Target(name, "", Comparison.AT_MOST, bound, number(bound), null);
    }

    static Target atLeast(String name, double bound) {
        return new Target(name, "", Comparison.AT_LEAST, bound, number(bound), null);
    }

    /** A count that must stay zero; it reads "0 lost". */
    static Target none(String what) {
        return atMost(what, 0).shownAs(what);
    }

    /** "goal ≤ 10, p99 ≤ 20": the goals of one note, in one phrase. */
    static String describe(Goal... goals) {
        return "goal " + Arrays.stream(goals).map(Goal::phrase).collect(Collectors.joining(", "));
    }

    Verdict verdict() {
        if (notCheckedBecause != null) {
            return Verdict.NOT_CHECKED;
        }
        if (comparison.holds(measured, bound)) {
            return Verdict.MET;
        }
        if (standIn != null) {
            return standIn.verdict() == Verdict.MET ? Verdict.OUT_OF_REACH : Verdict.MISSED;
        }
        return Verdict.MISSED;
    }

    /**
     * For the check's summary: "p99, ms: 24.1 (goal p99 ≤ 20)", "p50, ms: 14.2 (goal ≤ floor + 5 = 13.1)" where the
     * phrase does not show the number, or why it was not checked.
     */
    String outcome() {
        if (notCheckedBecause != null) {
            return name + ": not checked (goal " + phrase + "): " + notCheckedBecause;
        }
        String bounded = phrase.contains(number(bound)) ? phrase : phrase + " = " + number(bound);
        String outcome =
                name + ": " + (Double.isNaN(measured) ? "not measured" : number(measured)) + " (goal " + bounded + ")";
        if (standIn == null) {
            return outcome;
        }
        return outcome + ", out of reach here: the warm floor of this run measured " + number(floor) + "; held to "
                + standIn.phrase()
                + (standIn.phrase().contains(number(standIn.bound())) ? "" : " = " + number(standIn.bound()));
    }

    @Override
    public String toString() {
        return describe(this);
    }

    /** Plain digits, at most two decimals: 0.9, 10, 1.05. */
    static String number(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return Double.toString(value);
        }
        return BigDecimal.valueOf(value)
                .setScale(2, RoundingMode.HALF_UP)
                .stripTrailingZeros()
                .toPlainString();
    }

    /**
     * A goal as a section declares it, before a run measured anything: the bound, and optionally what the bound is
     * measured from in the same run ({@link #over}: "floor + 5").
     *
     * @param label the words before the comparison in the note ("p99" in "p99 ≤ 20"); empty where the row's figure
     *        says what is compared
     * @param reading how the bound reads ("20", "1000 + one backoff step (100 ms)")
     * @param base the name of a figure of the same run the bound is added to, or {@code null}
     */
    record Target(
            String name,
            String label,
            Comparison comparison,
            double bound,
            String reading,
            @Nullable String base) {

        Target shownAs(String newLabel) {
            return new Target(name, newLabel, comparison, bound, reading, base);
        }

        /** The bound in words, where its number alone would not say where it comes from. */
        Target reading(String newReading) {
            return new Target(name, label, comparison, bound, newReading, base);
        }

        /** A bound relative to another figure of the same run: {@code base + bound}. */
        Target over(String baseName) {
            return new Target(name, label, comparison, bound, reading, baseName);
        }

        Goal of(double measured) {
            if (base != null) {
                throw new IllegalStateException(name + " is measured against " + base + ": pass its value");
            }
            return new Goal(name, phrase(), comparison, bound, measured, null, Double.NaN, null);
        }

        /**
         * The goal where the warm floor of the same run measured {@code floorValue} for the same figure: this goal
         * when the floor meets the bound; otherwise the bound is out of this machine's reach (the same steps in bare
         * pgjdbc miss it), and ours is held to {@code overFloor} ({@link #over} the floor) instead, which the check
         * reports as out of reach, or as missed when ours misses that too.
         */
        Goal reachable(double measured, double floorValue, Target overFloor) {
            Goal goal = of(measured);
            if (Double.isNaN(floorValue) || comparison.holds(floorValue, bound)) {
                return goal;
            }
            Goal standIn = overFloor.of(measured, floorValue);
            return new Goal(name, phrase(), comparison, bound, measured, null, floorValue, standIn);
        }

        /** For a target {@link #over} a base: the base's value in this run. */
        Goal of(double measured, double baseValue) {
            if (base == null) {
                throw new IllegalStateException(name + " has no base");
            }
            return new Goal(name, phrase(), comparison, baseValue + bound, measured, null, Double.NaN, null);
        }

        /** The goal of a row whose figure this run could not compare: listed, neither passed nor failed. */
        Goal notChecked(String because) {
            return new Goal(name, phrase(), comparison, bound, Double.NaN, because, Double.NaN, null);
        }

        private String phrase() {
            if (comparison == Comparison.AT_MOST && bound == 0 && base == null && !label.isEmpty()) {
                return reading + " " + label;
            }
            String bounded = base == null ? reading : bound == 0 ? base : base + " + " + reading;
            return (label.isEmpty() ? "" : label + " ") + comparison.symbol + " " + bounded;
        }
    }
}

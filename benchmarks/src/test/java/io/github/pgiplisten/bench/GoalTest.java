package io.github.pgiplisten.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import org.junit.jupiter.api.Test;

/** A goal reads in the table's note as BENCHMARKS.md words it, from the one bound that the check also uses. */
class GoalTest {

    @Test
    void theNoteReadsTheBoundTheCheckCompares() {
        Goal median = Goal.atMost("median, ms", 10).of(7.7);
        Goal p99 = Goal.atMost("p99, ms", 20).shownAs("p99").of(14.3);

        assertThat(median).hasToString("goal ≤ 10");
        assertThat(Goal.describe(median, p99)).isEqualTo("goal ≤ 10, p99 ≤ 20");
        assertThat(Goal.atLeast("ours / raw", 0.9).of(1.19)).hasToString("goal ≥ 0.9");
        assertThat(Goal.describe(Goal.none("lost").of(0), Goal.none("twice").of(0)))
                .isEqualTo("goal 0 lost, 0 twice");
        assertThat(Goal.atMost("p50, ms", 5).over("floor").of(10.7, 8.0)).hasToString("goal ≤ floor + 5");
        assertThat(Goal.atMost("heap, MiB", 0)
                        .shownAs("heap growth")
                        .over("the backlog limit")
                        .of(23, 64))
                .hasToString("goal heap growth ≤ the backlog limit");
        assertThat(Goal.atMost("slowest, ms", 1100)
                        .shownAs("slowest")
                        .reading("1000 + one backoff step (100 ms)")
                        .of(3))
                .hasToString("goal slowest ≤ 1000 + one backoff step (100 ms)");
    }

    @Test
    void aBoundIsMetOnItsSideAndAtItAndMissedBeyond() {
        Goal.Target atMost = Goal.atMost("median, ms", 10);
        Goal.Target atLeast = Goal.atLeast("ours / raw", 0.9);

        assertThat(atMost.of(10).verdict()).isEqualTo(Goal.Verdict.MET);
        assertThat(atMost.of(10.01).verdict()).isEqualTo(Goal.Verdict.MISSED);
        assertThat(atLeast.of(0.9).verdict()).isEqualTo(Goal.Verdict.MET);
        assertThat(atLeast.of(0.61).verdict()).isEqualTo(Goal.Verdict.MISSED);
        assertThat(atLeast.of(Double.NaN).verdict()).isEqualTo(Goal.Verdict.MISSED);
        assertThat(Goal.atMost("p50, ms", 5).over("floor").of(13.1, 8.0).verdict())
                .isEqualTo(Goal.Verdict.MISSED);
    }

    @Test
    void aBoundRelativeToAnotherFigureNeedsThatFigure() {
        assertThatIllegalStateException()
                .isThrownBy(() -> Goal.atMost("p50, ms", 5).over("floor").of(10.7));
        assertThatIllegalStateException()
                .isThrownBy(() -> Goal.atMost("p50, ms", 5).of(10.7, 8.0));
    }
}

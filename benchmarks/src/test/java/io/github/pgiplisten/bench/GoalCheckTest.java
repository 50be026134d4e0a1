package io.github.pgiplisten.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The check of {@code ./run-benchmarks --check} on tables made here, without running a benchmark. */
class GoalCheckTest {

    private static final Goal.Target MEDIAN = Goal.atMost("median, ms", 10);
    private static final Goal.Target P99 = Goal.atMost("p99, ms", 20).shownAs("p99");
    private static final Goal.Target AGAINST_RAW = Goal.atLeast("ours / raw", 0.9);
    private static final Goal.Target OVER_FLOOR =
            Goal.atMost("p50 against the warm floor, ms", 5).over("floor");

    @Test
    void aMissedGoalFailsTheCheckAndItsRowFigureAndBoundAreNamed() {
        ResultsTable table = new ResultsTable();
        table.add("graceful handover, median ms", "7.7", "20.4", "", MEDIAN.of(7.7), P99.of(14.3));
        table.add("graceful handover slowed down, median ms", "100.0", "20.4", "", MEDIAN.of(100), P99.of(120));
        GoalCheck check = new GoalCheck(table.rows());

        assertThat(check.passed()).isFalse();
        assertThat(check.exitCode()).isEqualTo(GoalCheck.MISSED_EXIT_CODE).isNotZero();
        assertThat(check.summary())
                .contains(
                        "Goals (--check): 2 rows checked, 1 passed, 1 missed; 0 goals not checked; 0 rows state no goal",
                        "  passed       graceful handover, median ms",
                        "  MISSED       graceful handover slowed down, median ms",
                        "               missed median, ms: 100 (goal ≤ 10)",
                        "               missed p99, ms: 120 (goal p99 ≤ 20)",
                        "1 row missed a goal (exit code 1).");
    }

    @Test
    void rowsWhoseGoalsAreMetPassAndRowsWithoutGoalsAreOnlyCounted() {
        ResultsTable table = new ResultsTable();
        table.add("throughput, notifications/s", "29920", "25135", "", AGAINST_RAW.of(1.19));
        table.add(
                "lost / twice",
                "0 / 0",
                "119 / 0",
                "",
                Goal.none("lost").of(0),
                Goal.none("twice").of(0));
        table.add("footprint", "144", "66", "Spring Boot app vs a bare JVM loop");
        GoalCheck check = new GoalCheck(table.rows());

        assertThat(check.passed()).isTrue();
        assertThat(check.exitCode()).isZero();
        assertThat(check.summary())
                .containsExactly(
                        "Goals (--check): 2 rows checked, 2 passed, 0 missed; 0 goals not checked; 1 rows state no goal",
                        "  passed       throughput, notifications/s",
                        "  passed       lost / twice",
                        "No goal missed (exit code 0).");
    }

    @Test
    void aGoalTheRunCouldNotEvaluateIsListedAsNotCheckedAndNeitherPassesNorFails() {
        ResultsTable table = new ResultsTable();
        table.add("crash failover, p50 ms", "10.7", "16.2", "", OVER_FLOOR.notChecked("the floor section did not run"));
        table.add(
                "graceful handover, median ms",
                "7.7",
                "20.4",
                "",
                MEDIAN.of(7.7),
                OVER_FLOOR.notChecked("the floor section did not run"));
        GoalCheck check = new GoalCheck(table.rows());

        assertThat(check.exitCode()).isZero();
        assertThat(check.summary())
                .containsExactly(
                        "Goals (--check): 1 rows checked, 1 passed, 0 missed; 2 goals not checked; 0 rows state no goal",
                        "  not checked  crash failover, p50 ms",
                        "               p50 against the warm floor, ms: not checked (goal ≤ floor + 5): the floor section did "
                                + "not run",
                        "  passed       graceful handover, median ms",
                        "               p50 against the warm floor, ms: not checked (goal ≤ floor + 5): the floor section did "
                                + "not run",
                        "No goal missed (exit code 0).");
    }

    @Test
    void theFloorOfTheSameRunTurnsANotCheckedGoalIntoAChecked() {
        ResultsTable table = new ResultsTable();
        ResultsTable.Row crash = table.add(
                "crash failover, p50 ms", "14.2", "16.2", "", OVER_FLOOR.notChecked("the floor section did not run"));

        crash.replaceGoal(OVER_FLOOR.of(14.2, 8.0));

        assertThat(crash.goals()).singleElement().satisfies(goal -> {
            assertThat(goal.verdict()).isEqualTo(Goal.Verdict.MISSED);
            assertThat(goal.bound()).isEqualTo(13.0);
        });
        assertThat(new GoalCheck(table.rows()).summary())
                .contains("               missed p50 against the warm floor, ms: 14.2 (goal ≤ floor + 5 = 13)");
    }

    @Test
    void aBoundTheWarmFloorMissesTooIsOutOfReachAndOursIsHeldToTheFloorInstead() {
        Goal.Target median = Goal.atMost("median, ms", 5);
        Goal.Target overFloor = Goal.atMost("median, ms", 2).over("floor");
        ResultsTable table = new ResultsTable();
        ResultsTable.Row near = table.add("graceful, near its floor", "8.1", "40", "", median.of(8.1));
        ResultsTable.Row far = table.add("graceful, far above its floor", "19.0", "40", "", median.of(19.0));
        ResultsTable.Row reached = table.add("graceful, the floor within the bound", "6.0", "40", "", median.of(6.0));

        near.replaceGoal(median.reachable(8.1, 7.0, overFloor));
        far.replaceGoal(median.reachable(19.0, 7.0, overFloor));
        reached.replaceGoal(median.reachable(6.0, 4.0, overFloor));

        GoalCheck check = new GoalCheck(table.rows());
        assertThat(near.goals()).singleElement().extracting(Goal::verdict).isEqualTo(Goal.Verdict.OUT_OF_REACH);
        assertThat(far.goals()).singleElement().extracting(Goal::verdict).isEqualTo(Goal.Verdict.MISSED);
        // where the floor reaches the bound, the bound stands: 6.0 misses ≤ 5 although it is within floor + 2
        assertThat(reached.goals()).singleElement().extracting(Goal::verdict).isEqualTo(Goal.Verdict.MISSED);
        assertThat(check.exitCode()).isEqualTo(GoalCheck.MISSED_EXIT_CODE);
        assertThat(check.summary())
                .containsExactly(
                        "Goals (--check): 3 rows checked, 0 passed, 2 missed, 1 out of reach (the warm floor misses the "
                                + "bound too; ours held to the floor instead); 0 goals not checked; 0 rows state no goal",
                        "  out of reach graceful, near its floor",
                        "               out of reach median, ms: 8.1 (goal ≤ 5), out of reach here: the warm floor of "
                                + "this run measured 7; held to ≤ floor + 2 = 9",
                        "  MISSED       graceful, far above its floor",
                        "               missed median, ms: 19 (goal ≤ 5), out of reach here: the warm floor of this run "
                                + "measured 7; held to ≤ floor + 2 = 9",
                        "  MISSED       graceful, the floor within the bound",
                        "               missed median, ms: 6 (goal ≤ 5)",
                        "2 rows missed a goal (exit code 1).");
        assertThat(new GoalCheck(List.of(near)).exitCode()).isZero();
    }

    @Test
    void aFigureTheRunDidNotGetMissesItsGoal() {
        ResultsTable table = new ResultsTable();
        table.add("reconnect, ms", "n/a", "4", "", MEDIAN.of(Double.NaN));

        GoalCheck check = new GoalCheck(table.rows());

        assertThat(check.passed()).isFalse();
        assertThat(check.summary()).contains("               missed median, ms: not measured (goal ≤ 10)");
    }
}

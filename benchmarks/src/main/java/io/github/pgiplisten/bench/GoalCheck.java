package io.github.pgiplisten.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code ./run-benchmarks --check} adds after the table: every row's goals against what the run measured. Timing
 * goals stay out of the unit tests (these machines are too noisy for them), so this is where a regression shows: the
 * summary names each row that missed a goal, with the figure and the bound, and the exit code is 1. A goal the run could
 * not evaluate (the crash p50 against the floor when the floor section did not run) is listed as not checked: it
 * neither passes nor fails the run. A goal whose bound the warm floor of the same run misses too (the graceful
 * handover's 5 ms on a machine where the same steps in bare pgjdbc take 7) is listed as out of reach, with the floor's
 * figure: it fails the run only when ours also misses the stand-in goal over that floor.
 */
final class GoalCheck {

    /** The exit code of a run with a missed goal; 0 otherwise. */
    static final int MISSED_EXIT_CODE = 1;

    /** How a row's verdict reads; MISSED in capitals, to be found in a long log. */
    private static final Map<Goal.Verdict, String> WORDS = Map.of(
            Goal.Verdict.MET,
            "passed",
            Goal.Verdict.MISSED,
            "MISSED",
            Goal.Verdict.NOT_CHECKED,
            "not checked",
            Goal.Verdict.OUT_OF_REACH,
            "out of reach");

    private static final String INDENT = "               ";

    private static final Map<Goal.Verdict, String> PREFIX =
            Map.of(Goal.Verdict.MISSED, "missed ", Goal.Verdict.OUT_OF_REACH, "out of reach ");

    private final List<ResultsTable.Row> rows;

    GoalCheck(List<ResultsTable.Row> rows) {
        this.rows = List.copyOf(rows);
    }

    boolean passed() {
        return rows.stream()
                .flatMap(row -> row.goals().stream())
                .noneMatch(goal -> goal.verdict() == Goal.Verdict.MISSED);
    }

    int exitCode() {
        return passed() ? 0 : MISSED_EXIT_CODE;
    }

    /**
     * A count line; a line a row with goals (passed, MISSED or not checked), under it each goal it missed or could not
     * check; a closing line with the exit code.
     */
    List<String> summary() {
        List<String> lines = new ArrayList<>();
        Map<Goal.Verdict, Integer> rowsBy = new EnumMap<>(Goal.Verdict.class);
        int goalsNotChecked = 0;
        for (ResultsTable.Row row : rows) {
            if (row.goals().isEmpty()) {
                continue;
            }
            Goal.Verdict verdict = verdictOf(row);
            rowsBy.merge(verdict, 1, Integer::sum);
            lines.add("  " + String.format("%-12s", WORDS.get(verdict)) + " " + row.figure());
            for (Goal goal : row.goals()) {
                if (goal.verdict() != Goal.Verdict.MET) {
                    lines.add(INDENT + PREFIX.getOrDefault(goal.verdict(), "") + goal.outcome());
                    goalsNotChecked += goal.verdict() == Goal.Verdict.NOT_CHECKED ? 1 : 0;
                }
            }
        }
        int met = rowsBy.getOrDefault(Goal.Verdict.MET, 0);
        int missed = rowsBy.getOrDefault(Goal.Verdict.MISSED, 0);
        int outOfReach = rowsBy.getOrDefault(Goal.Verdict.OUT_OF_REACH, 0);
        long withoutGoal = rows.stream().filter(row -> row.goals().isEmpty()).count();
        lines.add(
                0,
                String.format(
                        "Goals (--check): %d rows checked, %d passed, %d missed%s; %d %s not checked; %d "
                                + "rows state no goal",
                        met + missed + outOfReach,
                        met,
                        missed,
                        outOfReach == 0
                                ? ""
                                : ", " + outOfReach + " out of reach (the warm floor misses the bound too; ours "
                                        + "held to the floor instead)",
                        goalsNotChecked,
                        goalsNotChecked == 1 ? "goal" : "goals",
                        withoutGoal));
        lines.add(
                missed == 0
                        ? "No goal missed (exit code 0)."
                        : missed + (missed == 1 ? " row" : " rows") + " missed a goal (exit code " + MISSED_EXIT_CODE
                                + ").");
        return lines;
    }

    void print(PrintStream out) {
        out.println();
        summary().forEach(out::println);
    }

    /**
     * MISSED if any goal is, OUT_OF_REACH if any other one is, MET if every other one was, NOT_CHECKED if the run could
     * evaluate none.
     */
    private static Goal.Verdict verdictOf(ResultsTable.Row row) {
        List<Goal.Verdict> verdicts = row.goals().stream().map(Goal::verdict).toList();
        if (verdicts.contains(Goal.Verdict.MISSED)) {
            return Goal.Verdict.MISSED;
        }
        if (verdicts.contains(Goal.Verdict.OUT_OF_REACH)) {
            return Goal.Verdict.OUT_OF_REACH;
        }
        return verdicts.contains(Goal.Verdict.MET) ? Goal.Verdict.MET : Goal.Verdict.NOT_CHECKED;
    }
}

package io.github.pgiplisten.chaos;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.awaitility.core.ConditionTimeoutException;

import io.github.pgiplisten.chaos.ChaosFleet.Handling;
import io.github.pgiplisten.chaos.ChaosFleet.Member;
import io.github.pgiplisten.chaos.ChaosFleet.Term;
import io.github.pgiplisten.chaos.Producer.Outcome;
import io.github.pgiplisten.chaos.Producer.Sent;

/**
 * What the fleet did with the numbers {@code from} (inclusive) to {@code to} (exclusive), against the guarantees:
 * <ul>
 * <li>no number handled twice, except by a leadership that began after a crash ({@code handedOver=false}) and handles
 * again, at least once, what its predecessor had not confirmed: such a repeat is counted apart
 * ({@link #crashRepeats()}), and a leadership may not repeat more than it announced;</li>
 * <li>each instance handles in commit order;</li>
 * <li>never two instances handling at once: in number order, each leadership's handlings form one run;</li>
 * <li>nothing lost while a leader was connected: a committed number is missing only if no leadership spanned its
 * commit with {@link #GRACE} to spare, and no leadership handled numbers on both sides of it (crash semantics:
 * what a leader had not handled when a fault cut it off may be gone).</li>
 * </ul>
 */
record Ledger(
        long sent,
        long committed,
        long uncertain,
        long handled,
        long lostToFaults,
        Map<String, Integer> crashRepeats,
        List<String> duplicates,
        List<String> outOfOrder,
        List<String> interleaved,
        List<String> lost,
        long maxLagMicros) {

    /** How long before a fault a leader may still have a committed notification in hand. */
    static final long GRACE = TimeUnit.SECONDS.toMicros(1);

    /**
     * The ledger once what was committed has had time to arrive (up to 10 s for the last 50 numbers): it counts only
     * what the fleet could have handled.
     */
    static Ledger settled(ChaosFleet fleet, Producer producer, long from, long to) {
        try {
            await().atMost(Duration.ofSeconds(10))
                    .pollDelay(Duration.ofMillis(200))
                    .until(() -> fleet.committedUnhandled(producer, to - 50, to) == 0);
        } catch (ConditionTimeoutException ex) {
            // something is missing: the ledger tells what
        }
        return of(fleet, producer, from, to);
    }

    static Ledger of(ChaosFleet fleet, Producer producer, long from, long to) {
        List<Sent> all = producer.sent();
        List<Term> terms = new ArrayList<>();
        fleet.members.forEach(member -> terms.addAll(member.terms()));
        long committed = 0;
        long uncertain = 0;
        long handledCount = 0;
        long lostToFaults = 0;
        long maxLag = 0;
        List<String> duplicates = new ArrayList<>();
        List<String> lost = new ArrayList<>();
        Map<String, Integer> crashRepeats = new TreeMap<>();
        Set<Long> repeated = new HashSet<>();
        TreeMap<Long, Handling> byNumber = new TreeMap<>();
        fleet.handled.forEach((n, handlings) -> byNumber.put(n, first(handlings)));
        for (long n = from; n < to && n < all.size(); n++) {
            Sent sent = all.get((int) n);
            List<Handling> handlings = fleet.handled.get(n);
            if (handlings != null) {
                handledCount++;
                maxLag = Math.max(maxLag, handlings.get(0).micros() - sent.endMicros());
                if (handlings.size() > 1) {
                    Term repeater = crashRepeater(handlings, terms);
                    if (repeater != null) {
                        crashRepeats.merge(repeater.name(), 1, Integer::sum);
                        repeated.add(n);
                    } else {
                        duplicates.add("n" + n + " handled " + handlings.size() + " times: " + handlings);
                    }
                }
            }
            if (sent.outcome() == Outcome.UNCERTAIN) {
                uncertain++;
            }
            if (sent.outcome() != Outcome.COMMITTED) {
                continue;
            }
            committed++;
            if (handlings != null) {
                continue;
            }
            String why = lostWhileLeading(n, sent, terms, byNumber);
            if (why != null) {
                lost.add(why);
            } else {
                lostToFaults++;
            }
        }
        for (Term term : terms) {
            int repeats = crashRepeats.getOrDefault(term.name(), 0);
            if (repeats > term.possibleRepeats()) {
                duplicates.add(term.name() + " handled " + repeats + " numbers again after a crash but announced at "
                        + "most " + term.possibleRepeats());
            }
        }
        byNumber.keySet().removeAll(repeated); // handled by both leaderships: neither's run is broken by them
        return new Ledger(
                to - from,
                committed,
                uncertain,
                handledCount,
                lostToFaults,
                crashRepeats,
                duplicates,
                outOfOrder(fleet, from, to),
                interleaved(byNumber, from, to),
                lost,
                maxLag);
    }

    private static Handling first(List<Handling> handlings) {
        Handling first = handlings.get(0);
        for (Handling handling : handlings) {
            if (handling.micros() < first.micros()) {
                first = handling;
            }
        }
        return first;
    }

    /**
     * The leadership a number counts as handled again by, as at-least-once allows: exactly two handlings, by two
     * leaderships, the later-begun of which began after a crash (not a handover); null for any other repeat.
     */
    private static Term crashRepeater(List<Handling> handlings, List<Term> terms) {
        if (handlings.size() != 2) {
            return null;
        }
        Term one = termOf(handlings.get(0), terms);
        Term other = termOf(handlings.get(1), terms);
        if (one == null || other == null || one == other) {
            return null;
        }
        Term later = one.start() > other.start() ? one : other;
        return later.handedOver() ? null : later;
    }

    private static Term termOf(Handling handling, List<Term> terms) {
        for (Term term : terms) {
            if (term.member() == handling.member() && term.index() == handling.term()) {
                return term;
            }
        }
        return null;
    }

    /** The most numbers one leadership handled again after a crash. */
    int mostCrashRepeats() {
        return crashRepeats.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    private static String lostWhileLeading(long n, Sent sent, List<Term> terms, TreeMap<Long, Handling> byNumber) {
        Map.Entry<Long, Handling> before = byNumber.lowerEntry(n);
        Map.Entry<Long, Handling> after = byNumber.higherEntry(n);
        if (before != null
                && after != null
                && before.getValue().member() == after.getValue().member()
                && before.getValue().term() == after.getValue().term()) {
            return "n" + n + " lost between n" + before.getKey() + " and n" + after.getKey() + ", both handled by "
                    + before.getValue().member() + " in one leadership";
        }
        for (Term term : terms) {
            if (term.start() <= sent.startMicros() && sent.endMicros() + GRACE <= term.end()) {
                return "n" + n + " (committed " + sent.endMicros() + ") lost while " + term.member()
                        + " led and stayed connected (" + term.start() + " .. " + term.end() + ")";
            }
        }
        return null;
    }

    private static List<String> outOfOrder(ChaosFleet fleet, long from, long to) {
        List<String> problems = new ArrayList<>();
        for (Member member : fleet.members) {
            long previous = -1;
            for (long n : member.handledInOrder) {
                if (n >= from && n < to) {
                    if (n < previous) {
                        problems.add(member + " handled n" + n + " after n" + previous);
                    }
                    previous = Math.max(previous, n);
                }
            }
        }
        return problems;
    }

    private static List<String> interleaved(TreeMap<Long, Handling> byNumber, long from, long to) {
        List<String> problems = new ArrayList<>();
        Set<String> finished = new HashSet<>();
        String current = null;
        for (Map.Entry<Long, Handling> entry : byNumber.subMap(from, to).entrySet()) {
            String leadership =
                    entry.getValue().member() + "#" + entry.getValue().term();
            if (!leadership.equals(current)) {
                if (finished.contains(leadership)) {
                    problems.add(leadership + " handled n" + entry.getKey() + " after another leadership had taken "
                            + "over (two instances handling at once)");
                }
                if (current != null) {
                    finished.add(current);
                }
                current = leadership;
            }
        }
        return problems;
    }

    /**
     * Every leadership of the fleet that handled one of the numbers {@code from} to {@code to}, in the order they
     * began: when (µs after the first's start), whether it began with a handover, what it announced it might repeat,
     * and the numbers it handled (first and last, with their times, and how many of them another leadership handled
     * too). What a failed ledger prints, so that a rare failure in CI can be read without a rerun.
     */
    static String leaderships(ChaosFleet fleet, long from, long to) {
        List<Term> terms = new ArrayList<>();
        fleet.members.forEach(member -> terms.addAll(member.terms()));
        terms.sort((one, other) -> Long.compare(one.start(), other.start()));
        long origin = terms.isEmpty() ? 0 : terms.get(0).start();
        StringBuilder out = new StringBuilder();
        for (Term term : terms) {
            long count = 0;
            long shared = 0;
            long firstN = -1;
            long lastN = -1;
            long firstAt = 0;
            long lastAt = 0;
            for (long n = from; n < to; n++) {
                List<Handling> handlings = fleet.handled.get(n);
                if (handlings == null) {
                    continue;
                }
                for (Handling handling : handlings) {
                    if (handling.member() == term.member() && handling.term() == term.index()) {
                        count++;
                        shared += handlings.size() > 1 ? 1 : 0;
                        if (firstN < 0) {
                            firstN = n;
                            firstAt = handling.micros();
                        }
                        lastN = n;
                        lastAt = handling.micros();
                    }
                }
            }
            if (count == 0) {
                continue;
            }
            out.append(String.format(
                    "%n  %s: %d .. %s µs, handedOver=%s possibleRepeats=%d: handled %d, n%d at %d .. n%d at %d, %d of "
                            + "them handled by another leadership too",
                    term.name(),
                    term.start() - origin,
                    term.end() == Long.MAX_VALUE ? "open" : Long.toString(term.end() - origin),
                    term.handedOver(),
                    term.possibleRepeats(),
                    count,
                    firstN,
                    firstAt - origin,
                    lastN,
                    lastAt - origin,
                    shared));
        }
        return out.toString();
    }

    boolean clean() {
        return duplicates.isEmpty() && outOfOrder.isEmpty() && interleaved.isEmpty() && lost.isEmpty();
    }

    String problems() {
        List<String> all = new ArrayList<>();
        all.addAll(duplicates);
        all.addAll(outOfOrder);
        all.addAll(interleaved);
        all.addAll(lost);
        return String.join("\n", all.subList(0, Math.min(all.size(), 30)))
                + (all.size() > 30 ? "\n… and " + (all.size() - 30) + " more" : "");
    }
}

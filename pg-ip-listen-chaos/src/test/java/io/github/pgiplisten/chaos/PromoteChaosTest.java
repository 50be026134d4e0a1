package io.github.pgiplisten.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.github.pgiplisten.chaos.ChaosFleet.Member;
import io.github.pgiplisten.chaos.Producer.Sent;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.FailoverPair;
import io.github.pgiplisten.testsupport.InstanceEvent;

/**
 * The {@code PROMOTE} scenario: three instances on a multi-host URL ({@code targetServerType=primary}) under 500
 * numbered notifications a second; the primary is killed ({@code pg_ctl stop -m immediate}) and its streaming replica
 * promoted. Each round has a primary, a replica and a fleet of its own. After it: one leader on the new primary by
 * {@code pg_locks}, nothing handled twice, nothing lost while a leader was connected, every instance told its gap,
 * one session per instance on the new primary. Runs half of {@code -Dchaos.rounds} (at least one), and only when
 * {@code -Dchaos.scenarios} is empty or names {@code PROMOTE}.
 */
class PromoteChaosTest {

    /** One reconnect backoff step at most (the instances' max-delay, 5 s) plus a second. */
    static final long RECOVERY_BOUND_MILLIS = 5_000 + 1_000;

    @Test
    void theFleetFollowsAPromotedReplica() throws Exception {
        if (!ChaosTest.asked("PROMOTE")) {
            return; // another scenario was asked for
        }
        int rounds = Math.max(1, Integer.getInteger("chaos.rounds", 2) / 2);
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        Random random = new Random(seed);
        List<Long> recoveries = new ArrayList<>();
        long committed = 0;
        long handled = 0;
        long lostToFaults = 0;
        for (int round = 1; round <= rounds; round++) {
            String id = HexFormat.of().toHexDigits(random.nextInt());
            try (FailoverPair pair = FailoverPair.start()) {
                ChaosFleet fleet = new ChaosFleet(pair, "chaos-" + id, "chaos_" + id);
                Producer producer = null;
                try {
                    for (int i = 0; i < 3; i++) {
                        fleet.start();
                    }
                    fleet.awaitOneLeader();
                    await().atMost(Duration.ofSeconds(60))
                            .until(() -> fleet.alive().stream().allMatch(Member::connected));
                    producer = new Producer(pair, fleet.channel, 500);
                    Producer running = producer;
                    await().atMost(Duration.ofSeconds(30)).until(() -> !fleet.handled.isEmpty());
                    Thread.sleep(300 + random.nextInt(1200));
                    long from = producer.count();

                    long faultAt = EpochMicros.now();
                    fleet.alive().forEach(member -> member.cuts.add(faultAt));
                    pair.failOver();
                    long promotedAt = EpochMicros.now();
                    Member leader = fleet.awaitOneLeader();
                    long firstHandled = firstHandlingAfter(fleet, running, promotedAt);
                    long recoveredMillis = Math.max(0, firstHandled - promotedAt) / 1000;
                    recoveries.add(recoveredMillis);
                    System.out.printf(
                            "chaos: PROMOTE round %d: %s leads on the new primary, first handled %d ms "
                                    + "after the promotion (the kill and the promotion took %d ms)%n",
                            round, leader, recoveredMillis, (promotedAt - faultAt) / 1000);
                    assertThat(recoveredMillis)
                            .as("promotion → first handled, ms")
                            .isLessThanOrEqualTo(RECOVERY_BOUND_MILLIS);

                    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                        for (Member member : fleet.alive()) {
                            assertThat(member.eventsAfter(faultAt, "reconnected"))
                                    .as("%s told its gap", member)
                                    .isNotEmpty();
                        }
                    });
                    List<InstanceEvent> takeovers = new ArrayList<>();
                    fleet.members.forEach(member -> takeovers.addAll(member.eventsAfter(faultAt, "leader")));
                    assertThat(takeovers)
                            .as("takeovers after the failover, none a handover")
                            .isNotEmpty()
                            .allMatch(event -> event.detail().startsWith("false "));
                    await().atMost(Duration.ofSeconds(20))
                            .untilAsserted(() -> assertThat(fleet.sessions())
                                    .as("sessions of the fleet on the new primary")
                                    .isEqualTo(3));

                    Thread.sleep(1000);
                    long to = producer.count();
                    await().atMost(Duration.ofSeconds(10))
                            .pollDelay(Duration.ofMillis(200))
                            .until(() -> running.startedAfter(EpochMicros.now() - 2_000_000).stream()
                                    .allMatch(sent -> sent.outcome() != Producer.Outcome.COMMITTED
                                            || fleet.handled.containsKey(sent.n())
                                            || sent.n() >= to));
                    Ledger ledger = Ledger.of(fleet, producer, from, to);
                    System.out.printf("chaos: PROMOTE round %d: %s%n", round, ledger);
                    assertThat(ledger.clean())
                            .as("PROMOTE: %s%n%s", ledger, ledger.problems())
                            .isTrue();
                    committed += ledger.committed();
                    handled += ledger.handled();
                    lostToFaults += ledger.lostToFaults();
                } catch (Exception | AssertionError ex) {
                    fleet.printEventsAndLogs();
                    throw ex;
                } finally {
                    if (producer != null) {
                        producer.close();
                    }
                    fleet.close();
                }
            }
        }
        String row = String.format(
                "| primary killed (`pg_ctl stop -m immediate`), its streaming replica promoted; "
                        + "a multi-host URL with `targetServerType=primary` | %d | %d | %d | %d | 0 | 0, 0 | 0 | 0 | %s "
                        + "(from the promotion) |",
                rounds,
                committed,
                handled,
                lostToFaults,
                recoveries.stream()
                        .map(String::valueOf)
                        .reduce((a, b) -> a + ", " + b)
                        .orElse(""));
        System.out.println(row);
        String target = System.getProperty("chaos.report", "");
        if (!target.isBlank()) {
            Files.writeString(
                    Path.of(target + ".promote"),
                    row + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        }
    }

    /** When the first number sent after {@code since} was handled (epoch micros), waiting for it. */
    private static long firstHandlingAfter(ChaosFleet fleet, Producer producer, long since) {
        long[] first = new long[1];
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (Sent sent : producer.startedAfter(since)) {
                List<ChaosFleet.Handling> handlings = fleet.handled.get(sent.n());
                if (handlings != null && (first[0] == 0 || handlings.get(0).micros() < first[0])) {
                    first[0] = handlings.get(0).micros();
                }
            }
            return first[0] > 0;
        });
        return first[0];
    }
}

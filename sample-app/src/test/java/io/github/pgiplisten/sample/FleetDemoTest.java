package io.github.pgiplisten.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * The demo's whole experiment, end to end: three JVMs of the sample app against a real PostgreSQL. Tagged {@code soak}
 * (it waits out a minute of real time): CI's second Spring Boot line leaves it out, as the other long runs.
 */
@Tag("soak")
class FleetDemoTest {

    @Test
    void oneLeaderTakeoverAfterAKillZeroLossHandoverAndBroadcastToAll() throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
        FleetDemo.Result result = new FleetDemo(
                        TestPostgres.shared(),
                        new FleetDemo.Settings(Duration.ofSeconds(2), 3, Duration.ofMillis(5)),
                        out)
                .run();
        String transcript = output.toString(StandardCharsets.UTF_8);
        System.out.println(transcript);
        System.out.println(result.summary());

        assertThat(result.firstStandbys()).hasSize(2).doesNotContain(result.firstLeader());
        assertThat(result.secondLeader()).isNotEqualTo(result.firstLeader());
        assertThat(result.thirdLeader()).isNotIn(result.firstLeader(), result.secondLeader());
        assertThat(result.sent()).isGreaterThan(500);
        assertThat(result.duplicated()).as(transcript).isZero();
        assertThat(result.repeatedAfterCrash()).as(transcript).isLessThanOrEqualTo(100); // two progress intervals
        assertThat(result.lost()).as(transcript).isZero();
        assertThat(result.durableWhileDown()).isEqualTo(100);
        assertThat(result.durableLost()).as(transcript).isZero();
        assertThat(result.durableDuplicated()).as(transcript).isZero();
        assertThat(result.broadcastOk()).as(transcript).isTrue();
        assertThat(transcript).contains("is the leader", "took over", "handled 100 of 100");
    }
}

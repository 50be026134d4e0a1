package io.github.pgiplisten.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * The demo's whole experiment, end to end: three JVMs of the sample app against a real PostgreSQL. Tagged {@code soak}
 * (it waits out a minute of real time): CI's second Spring Boot line leaves it out, as the other long runs.
 */
@Tag("soak")
class FleetDemoTest {

    /**
     * The instances' JVMs with the client compiler only and the serial collector: nine Spring Boot JVMs start here,
     * three at a time on two cores, and with these options they are up in about half the time (5 s rather than 10 on
     * a quiet machine: less to compile, no collector threads). What the test asserts does not depend on how fast the instances
     * run; {@code ./run-demo}, whose figures are read, starts them with {@code -Xmx256m} alone.
     */
    private static final List<String> INSTANCE_JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    @Test
    void oneLeaderTakeoverAfterAKillZeroLossHandoverAndBroadcastToAll() throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
        FleetDemo.Result result = new FleetDemo(
                        TestPostgres.shared(),
                        new FleetDemo.Settings(Duration.ofSeconds(2), 3, Duration.ofMillis(5), INSTANCE_JVM),
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

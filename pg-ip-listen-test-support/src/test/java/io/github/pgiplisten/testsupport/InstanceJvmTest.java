package io.github.pgiplisten.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

/** The fleet harness against a real child JVM: events and ordinary lines apart, stdin commands, both signals. */
class InstanceJvmTest {

    /** A stand-in instance: reports, answers "echo" commands, and reports once more in its SIGTERM hook. */
    public static final class EchoInstance {

        public static void main(String[] args) throws Exception {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> InstanceEvent.print("stopping", "")));
            System.out.println("an ordinary log line");
            System.err.println("an error line");
            InstanceEvent.print("ready", args[0] + " " + System.getProperty("echo.property"));
            BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String command;
            while ((command = commands.readLine()) != null) {
                InstanceEvent.print("echo", command);
            }
        }
    }

    private static final class Recorded implements InstanceJvm.Output {
        final List<InstanceEvent> events = new CopyOnWriteArrayList<>();
        final List<String> lines = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();

        @Override
        public void event(InstanceEvent event) {
            events.add(event);
        }

        @Override
        public void line(String line) {
            lines.add(line);
        }

        @Override
        public void errorLine(String line) {
            errors.add(line);
        }

        boolean has(String kind) {
            return events.stream().anyMatch(event -> event.kind().equals(kind));
        }
    }

    @Test
    void readsEventsApartFromOtherLinesAndAnswersCommandsUntilSigterm() throws Exception {
        Recorded output = new Recorded();
        long before = EpochMicros.now();
        try (InstanceJvm jvm = InstanceJvm.launch("echo")
                .mainClass(EchoInstance.class)
                .systemProperty("echo.property", "set")
                .arguments("first")
                .start(output)) {
            Await.until("it is ready", Duration.ofSeconds(30), () -> output.has("ready"));
            jvm.send("hello world");
            Await.until("it echoes", Duration.ofSeconds(10), () -> output.has("echo"));
            jvm.terminate();
            assertThat(jvm.awaitExit(Duration.ofSeconds(10))).isTrue();
            Await.until("its shutdown hook reported", Duration.ofSeconds(10), () -> output.has("stopping"));
        }
        assertThat(output.events).extracting(InstanceEvent::kind).containsExactly("ready", "echo", "stopping");
        assertThat(output.events.get(0).detail()).isEqualTo("first set");
        assertThat(output.events.get(1).detail()).isEqualTo("hello world");
        assertThat(output.events.get(0).micros()).isBetween(before, EpochMicros.now());
        assertThat(output.lines).containsExactly("an ordinary log line");
        assertThat(output.errors).containsExactly("an error line");
    }

    @Test
    void aKilledInstanceStaysReadableAndDiesAtOnce() throws Exception {
        Recorded output = new Recorded();
        try (InstanceJvm jvm = InstanceJvm.launch("victim")
                .mainClass(EchoInstance.class)
                .errorsToOutput()
                .arguments("x")
                .start(output)) {
            Await.until("it is ready", Duration.ofSeconds(30), () -> output.has("ready"));
            jvm.kill();
            assertThat(jvm.awaitExit(Duration.ofSeconds(10))).isTrue();
            assertThat(jvm.isAlive()).isFalse();
        }
        assertThat(output.has("stopping"))
                .as("no shutdown hook runs on SIGKILL")
                .isFalse();
        assertThat(output.lines).contains("an ordinary log line", "an error line");
    }

    @Test
    void anEventLineRoundTrips() {
        InstanceEvent event = new InstanceEvent(1_764_000_000_123_456L, "handled", "n42 and more");
        assertThat(InstanceEvent.parse(event.toString())).contains(event);
        assertThat(InstanceEvent.parse("ev 12 ready")).contains(new InstanceEvent(12, "ready", ""));
        assertThat(InstanceEvent.parse("2026-01-01 INFO evidently a log line")).isEmpty();
        assertThat(EpochMicros.millisBetween(1_000, 3_500)).isEqualTo(2.5);
    }
}

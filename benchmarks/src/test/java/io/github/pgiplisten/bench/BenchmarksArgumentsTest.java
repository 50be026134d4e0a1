package io.github.pgiplisten.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;

class BenchmarksArgumentsTest {

    @Test
    void checkIsAnOptionAnywhereAmongTheSections() {
        Benchmarks.Arguments arguments = Benchmarks.Arguments.parse("graceful", "--check", "floor");

        assertThat(arguments.check()).isTrue();
        assertThat(arguments.sections()).containsExactly("crash", "floor");
        assertThat(Benchmarks.Arguments.parse("idle").check()).isFalse();
    }

    @Test
    void checkAloneChecksEverySection() {
        Benchmarks.Arguments arguments = Benchmarks.Arguments.parse("--check");

        assertThat(arguments.check()).isTrue();
        assertThat(arguments.sections())
                .contains(
                        "throughput",
                        "payload",
                        "crash",
                        "floor",
                        "footprint",
                        "channels",
                        "fleet",
                        "durable-latency",
                        "durable-publish")
                .hasSize(18);
    }

    @Test
    void anUnknownNameIsRefused() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Benchmarks.Arguments.parse("--chek", "idle"))
                .withMessageContaining("unknown section --chek");
    }
}

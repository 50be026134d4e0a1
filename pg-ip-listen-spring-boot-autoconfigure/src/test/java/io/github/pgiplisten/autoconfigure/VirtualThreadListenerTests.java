package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerThreadsTests.Seen;
import io.github.pgiplisten.autoconfigure.ListenerThreadsTests.ThreadsListener;

/**
 * {@code spring.threads.virtual.enabled=true}: listener methods on virtual threads from Boot's
 * {@code SimpleAsyncTaskExecutorBuilder}, the {@code TaskDecorator} applied, per-channel order kept. Needs Java 21 or
 * later: the build runs it in a JVM of its own (the execution {@code virtual-threads}), with the running JDK when that
 * is 21+, else with the one that {@code -Dpgil.virtual-threads.java} names.
 */
class VirtualThreadListenerTests {

    private final String channel = TestContexts.channel("virtual");

    @Test
    void listenerMethodsRunOnVirtualThreadsWithTheTaskDecoratorAndInOrder() {
        assertThat(Runtime.version().feature())
                .as("this test needs Java 21 or later")
                .isGreaterThanOrEqualTo(21);
        ListenerThreadsTests.app(channel)
                .withPropertyValues("spring.threads.virtual.enabled=true")
                .run(context -> {
                    ThreadsListener listener = context.getBean(ThreadsListener.class);
                    Seen seen = ListenerThreadsTests.publishAndAwait(
                            context.getBean(PgListenStatus.class),
                            context.getBean(PgPublisher.class),
                            listener,
                            channel);
                    assertThat(listener.virtual).containsOnly(true);
                    assertThat(seen.contexts()).containsOnly("decorated");
                    assertThat(seen.threads()).allMatch(name -> name.startsWith("pg-ip-listen-"));
                });
    }
}

package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.TaskDecorator;

import io.github.pgiplisten.PgListenOptionsCustomizer;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgPublisher;

/**
 * Listener methods run on threads the Boot way: a {@link TaskDecorator} bean wraps them (MDC, security context), and
 * {@code spring.threads.virtual.enabled=true} gives virtual threads on Java 21 or later
 * ({@code VirtualThreadListenerTests}, run by a JVM of that kind). Per-channel order holds on both.
 */
class ListenerThreadsTests {

    static final ThreadLocal<String> CONTEXT = new ThreadLocal<>();

    private final String channel = TestContexts.channel("threads");

    static ApplicationContextRunner app(String channel) {
        return TestContexts.runner()
                .withUserConfiguration(ThreadsApp.class)
                .withPropertyValues("test.channel=" + channel);
    }

    @Test
    void aTaskDecoratorBeanWrapsTheListenersAndEachChannelStaysInOrder() {
        app(channel).run(context -> {
            Seen seen = publishAndAwait(
                    context.getBean(PgListenStatus.class),
                    context.getBean(PgPublisher.class),
                    context.getBean(ThreadsListener.class),
                    channel);
            assertThat(seen.contexts()).containsOnly("decorated");
            assertThat(seen.threads()).allMatch(name -> name.startsWith("pg-ip-listen-"));
        });
    }

    @Test
    void aCustomizerGivesTheListenersAnExecutorOfTheApplicationsOwn() {
        java.util.concurrent.ExecutorService own = java.util.concurrent.Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "app-listener");
            thread.setDaemon(true);
            return thread;
        });
        try {
            app(channel)
                    .withBean(PgListenOptionsCustomizer.class, () -> options -> options.handlerExecutor(own))
                    .run(context -> {
                        Seen seen = publishAndAwait(
                                context.getBean(PgListenStatus.class),
                                context.getBean(PgPublisher.class),
                                context.getBean(ThreadsListener.class),
                                channel);
                        assertThat(seen.threads()).containsOnly("app-listener");
                        assertThat(seen.contexts())
                                .as("the TaskDecorator still applies")
                                .containsOnly("decorated");
                    });
        } finally {
            own.shutdownNow();
        }
    }

    /** What the listener saw of 200 notifications, checked in order. */
    record Seen(List<String> contexts, List<String> threads) {}

    static Seen publishAndAwait(PgListenStatus status, PgPublisher publisher, ThreadsListener listener, String channel)
            throws InterruptedException {
        assertThat(status.awaitListening(Duration.ofSeconds(20))).isTrue();
        List<String> sent = IntStream.range(0, 200).mapToObj(n -> "n" + n).toList();
        sent.forEach(payload -> publisher.notify(channel, payload));
        await().atMost(Duration.ofSeconds(20)).until(() -> listener.payloads.size() == sent.size());
        assertThat(listener.payloads).containsExactlyElementsOf(sent);
        return new Seen(listener.contexts, listener.threads);
    }

    static class ThreadsListener {

        final List<String> payloads = new CopyOnWriteArrayList<>();
        final List<String> contexts = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        final List<Boolean> virtual = new CopyOnWriteArrayList<>();

        @PgListener("${test.channel}")
        void on(String payload) throws Exception {
            payloads.add(payload);
            contexts.add(String.valueOf(CONTEXT.get()));
            threads.add(Thread.currentThread().getName());
            virtual.add(isVirtual(Thread.currentThread()));
        }

        /** {@code Thread.isVirtual()}, which Java 17 does not have. */
        static boolean isVirtual(Thread thread) throws Exception {
            try {
                return (Boolean) Thread.class.getMethod("isVirtual").invoke(thread);
            } catch (NoSuchMethodException ex) {
                return false;
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ThreadsApp {

        @Bean
        ThreadsListener threadsListener() {
            return new ThreadsListener();
        }

        @Bean
        TaskDecorator contextDecorator() {
            return task -> () -> {
                CONTEXT.set("decorated");
                try {
                    task.run();
                } finally {
                    CONTEXT.remove();
                }
            };
        }
    }
}

package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.SmartLifecycle;

/**
 * The container's place among the context's lifecycle beans, as Spring Kafka's listener containers: phase
 * {@code Integer.MAX_VALUE - 100} by default. It starts after the phases of the embedded web server
 * ({@code DEFAULT_PHASE - 2048}) and of its graceful shutdown ({@code DEFAULT_PHASE - 1024}) and stops before them;
 * it starts before the beans that keep SmartLifecycle's default phase ({@code Integer.MAX_VALUE}) and stops after
 * them. {@code pg-ip-listen.phase} moves it.
 */
class LifecycleOrderTests {

    /** Where Spring Boot 4 starts and stops the embedded web server (WebServerApplicationContext). */
    static final int WEB_SERVER_PHASE = SmartLifecycle.DEFAULT_PHASE - 2048;

    /** Where Spring Boot 4 shuts the embedded web server down gracefully (WebServerApplicationContext). */
    static final int GRACEFUL_SHUTDOWN_PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;

    /** A lifecycle bean that records whether the container runs when it is started and when it is stopped. */
    static class Recorder implements SmartLifecycle, ApplicationContextAware {

        private final String name;
        private final int phase;
        private final List<String> log;
        private ApplicationContext context;
        private volatile boolean running;

        Recorder(String name, int phase, List<String> log) {
            this.name = name;
            this.phase = phase;
            this.log = log;
        }

        @Override
        public void setApplicationContext(ApplicationContext context) {
            this.context = context;
        }

        @Override
        public void start() {
            log.add(name + " starts, container running: "
                    + context.getBean(PgListenerContainer.class).isRunning());
            running = true;
        }

        @Override
        public void stop() {
            log.add(name + " stops, container running: "
                    + context.getBean(PgListenerContainer.class).isRunning());
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return phase;
        }
    }

    private static ApplicationContextRunner withRecorders(List<String> log) {
        return TestContexts.runner()
                .withBean("webServer", Recorder.class, () -> new Recorder("web server", WEB_SERVER_PHASE, log))
                .withBean(
                        "gracefulShutdown",
                        Recorder.class,
                        () -> new Recorder("graceful shutdown", GRACEFUL_SHUTDOWN_PHASE, log))
                .withBean(
                        "defaultPhase",
                        Recorder.class,
                        () -> new Recorder("default phase", SmartLifecycle.DEFAULT_PHASE, log));
    }

    @Test
    void byDefaultItStartsAfterTheWebServerAndBeforeDefaultPhaseBeansAndStopsInReverse() {
        List<String> log = new CopyOnWriteArrayList<>();
        withRecorders(log).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(PgListenerContainer.class).getPhase())
                    .isEqualTo(Integer.MAX_VALUE - 100)
                    .isEqualTo(PgListenerContainer.DEFAULT_PHASE);
        });
        assertThat(log)
                .containsExactly(
                        "web server starts, container running: false",
                        "graceful shutdown starts, container running: false",
                        "default phase starts, container running: true",
                        "default phase stops, container running: true",
                        "graceful shutdown stops, container running: false",
                        "web server stops, container running: false");
    }

    @Test
    void thePhasePropertyMovesIt() {
        List<String> log = new CopyOnWriteArrayList<>();
        withRecorders(log)
                .withPropertyValues("pg-ip-listen.phase=" + (WEB_SERVER_PHASE - 1))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(PgListenerContainer.class).getPhase())
                            .isEqualTo(WEB_SERVER_PHASE - 1);
                });
        assertThat(log)
                .containsExactly(
                        "web server starts, container running: true",
                        "graceful shutdown starts, container running: true",
                        "default phase starts, container running: true",
                        "default phase stops, container running: true",
                        "graceful shutdown stops, container running: true",
                        "web server stops, container running: true");
    }
}

package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderListener;
import io.github.pgiplisten.observation.PgListenObservations;
import io.github.pgiplisten.observation.PgListenerMeterObservationHandler;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationHandler.FirstMatchingCompositeObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.test.simple.SimpleSpan;
import io.micrometer.tracing.test.simple.SimpleTracer;

/**
 * {@code pg-ip-listen.observation-enabled}: handling and publishing are Micrometer observations with OpenTelemetry's
 * messaging conventions, and with {@code pg-ip-listen.trace-propagation} the listener continues the publisher's trace.
 */
class ObservationTests {

    private final String channel = TestContexts.channel("observed");

    private ApplicationContextRunner app(ObservationRegistry registry) {
        return TestContexts.runner()
                .withUserConfiguration(ListenerApp.class)
                .withBean(ObservationRegistry.class, () -> registry)
                .withPropertyValues("test.channel=" + channel, "pg-ip-listen.observation-enabled=true");
    }

    @Test
    void handlingAndPublishingAreObservedWithTheMessagingConventions() {
        TestObservationRegistry registry = TestObservationRegistry.create();
        app(registry).run(context -> {
            assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                    .isTrue();
            PgPublisher publisher = context.getBean(PgPublisher.class);
            publisher.notify(channel + "-text", "hello");
            publisher.notify(channel + "-text", "boom");
            OrderListener listener = context.getBean(OrderListener.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> listener.texts.contains("hello"));
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> TestObservationRegistryAssert.assertThat(registry)
                            .hasNumberOfObservationsWithNameEqualTo(PgListenObservations.LISTENER, 2));

            TestObservationRegistryAssert.assertThat(registry)
                    .hasNumberOfObservationsWithNameEqualTo(PgListenObservations.PUBLISH, 2)
                    .hasAnObservation(observation -> observation
                            .hasNameEqualTo(PgListenObservations.PUBLISH)
                            .hasContextualNameEqualTo(channel + "-text publish")
                            .hasLowCardinalityKeyValue("messaging.system", "postgresql")
                            .hasLowCardinalityKeyValue("messaging.operation", "publish")
                            .hasLowCardinalityKeyValue("messaging.destination.name", channel + "-text"))
                    .hasAnObservation(observation -> observation
                            .hasNameEqualTo(PgListenObservations.LISTENER)
                            .hasContextualNameEqualTo(channel + "-text process")
                            .hasLowCardinalityKeyValue("messaging.system", "postgresql")
                            .hasLowCardinalityKeyValue("messaging.destination.name", channel + "-text")
                            .hasLowCardinalityKeyValue("pg-ip-listen.listener.id", "orderListener#onText")
                            .hasLowCardinalityKeyValue(
                                    "pg-ip-listen.group",
                                    context.getEnvironment().getProperty("spring.application.name"))
                            .doesNotHaveError())
                    .hasAnObservation(observation -> observation
                            .hasNameEqualTo(PgListenObservations.LISTENER)
                            .hasError());
        });
    }

    @Test
    void withTracePropagationTheListenerContinuesThePublishersTraceAndGetsThePayloadAlone() {
        SimpleTracer tracer = new SimpleTracer();
        W3cPropagator propagator = new W3cPropagator(tracer);
        ObservationRegistry registry = ObservationRegistry.create();
        registry.observationConfig()
                .observationHandler(new FirstMatchingCompositeObservationHandler(
                        new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
                        new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
                        new DefaultTracingObservationHandler(tracer)));
        app(registry).withPropertyValues("pg-ip-listen.trace-propagation=true").run(context -> {
            assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                    .isTrue();
            context.getBean(PgPublisher.class).notify(channel + "-orders", new ListenerApp.OrderCreated(7, "tea"));
            OrderListener listener = context.getBean(OrderListener.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> listener.orders.size() == 1);
            assertThat(listener.orders).containsExactly(new ListenerApp.OrderCreated(7, "tea"));
            await().atMost(Duration.ofSeconds(10)).until(() -> tracer.getSpans().size() == 2);
            List<SimpleSpan> spans = List.copyOf(tracer.getSpans());
            SimpleSpan publish = spans.stream()
                    .filter(span -> span.getName().endsWith("publish"))
                    .findFirst()
                    .orElseThrow();
            SimpleSpan process = spans.stream()
                    .filter(span -> span.getName().endsWith("process"))
                    .findFirst()
                    .orElseThrow();
            assertThat(process.getTraceId()).as("one trace").isEqualTo(publish.getTraceId());
            assertThat(process.getParentId())
                    .as("the listener's span is the publish span's child")
                    .isEqualTo(publish.getSpanId());
        });
    }

    @Test
    void withSpringBootsObservationRegistryListenersAreTimedByTheirOwnHandlerAndEverythingElseByBoots() {
        TestContexts.runner()
                .withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class))
                .withUserConfiguration(ListenerApp.class)
                .withPropertyValues("test.channel=" + channel, "pg-ip-listen.observation-enabled=true")
                .run(context -> {
                    assertThat(context).hasSingleBean(PgListenerMeterObservationHandler.class);
                    assertThat(context.getBeanProvider(ObservationHandler.class).orderedStream())
                            .as("Boot hands an observation to the first meter handler that supports it, in bean order")
                            .first()
                            .isInstanceOf(PgListenerMeterObservationHandler.class);
                    assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                            .isTrue();
                    PgPublisher publisher = context.getBean(PgPublisher.class);
                    for (int i = 0; i < 3; i++) {
                        publisher.notify(channel + "-text", "hello " + i);
                    }
                    publisher.notify(channel + "-text", "boom");
                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    String group = context.getEnvironment().getProperty("spring.application.name");
                    await().atMost(Duration.ofSeconds(10))
                            .untilAsserted(() -> assertThat(meters.find(PgListenObservations.LISTENER)
                                            .tags("error", "none", "messaging.destination.name", channel + "-text")
                                            .tags(
                                                    "pg-ip-listen.listener.id",
                                                    "orderListener#onText",
                                                    "pg-ip-listen.group",
                                                    group)
                                            .timer())
                                    .isNotNull()
                                    .extracting(Timer::count)
                                    .isEqualTo(3L));
                    await().atMost(Duration.ofSeconds(10))
                            .untilAsserted(() -> assertThat(meters.find(PgListenObservations.LISTENER)
                                            .tagKeys("error")
                                            .timers())
                                    .as("the failed one is timed with its error")
                                    .anySatisfy(
                                            timer -> assertThat(timer.getId().getTag("error"))
                                                    .isNotEqualTo("none")));
                    assertThat(meters.find(PgListenObservations.LISTENER + ".active")
                                    .tag("messaging.destination.name", channel + "-text")
                                    .longTaskTimer())
                            .as("a long task timer, as Boot's own handler makes")
                            .isNotNull()
                            .extracting(LongTaskTimer::activeTasks)
                            .isEqualTo(0);
                    assertThat(meters.find(PgListenObservations.PUBLISH).timer())
                            .as("publishing stays with Boot's handler")
                            .isNotNull()
                            .extracting(Timer::count)
                            .isEqualTo(4L);
                });
    }

    @Test
    void ignoredLongTaskTimersAreIgnoredForListenersToo() {
        TestContexts.runner()
                .withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class))
                .withUserConfiguration(ListenerApp.class)
                .withPropertyValues(
                        "test.channel=" + channel,
                        "pg-ip-listen.observation-enabled=true",
                        "management.metrics.observations.ignored-meters=long-task-timer")
                .run(context -> {
                    assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                            .isTrue();
                    context.getBean(PgPublisher.class).notify(channel + "-text", "hello");
                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    await().atMost(Duration.ofSeconds(10))
                            .until(() ->
                                    meters.find(PgListenObservations.LISTENER).timer() != null);
                    assertThat(meters.find(PgListenObservations.LISTENER + ".active")
                                    .meters())
                            .isEmpty();
                });
    }

    @Test
    void withObservationOffNoHandlerIsAdded() {
        TestContexts.runner()
                .withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class))
                .run(context -> assertThat(context).doesNotHaveBean(PgListenerMeterObservationHandler.class));
    }
}

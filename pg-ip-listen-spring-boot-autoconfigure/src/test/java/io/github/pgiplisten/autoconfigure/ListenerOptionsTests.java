package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerEndpointRegistry;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgPublisher;

/**
 * {@code @PgListener(id, autoStartup, errorHandler)}, {@code pg-ip-listen.auto-startup} and the
 * {@link PgListenerEndpointRegistry}: listeners by id, stopped and started at run time while the others go on, and
 * listeners registered at run time for channels chosen then.
 */
@ExtendWith(OutputCaptureExtension.class)
class ListenerOptionsTests {

    private final String channel = TestContexts.channel("options");

    private ApplicationContextRunner app() {
        return TestContexts.runner()
                .withUserConfiguration(OptionsApp.class)
                .withPropertyValues("test.channel=" + channel);
    }

    @Test
    void listenersHaveIdsAndOneStoppedAtRunTimeMissesWhatComesMeanwhileWhileTheOthersGoOn() {
        app().run(context -> {
            PgListenStatus status = context.getBean(PgListenStatus.class);
            PgListenerEndpointRegistry registry = context.getBean(PgListenerEndpointRegistry.class);
            OptionsListener listener = context.getBean(OptionsListener.class);
            PgPublisher publisher = context.getBean(PgPublisher.class);
            assertThat(registry.getListenerIds())
                    .containsExactlyInAnyOrder("orders", "optionsListener#onAudit", "manual", "fragile");
            assertThat(registry.getListener("orders")).hasValueSatisfying(orders -> {
                assertThat(orders.channels()).containsExactly(channel + "-orders");
                assertThat(orders.isRunning()).isTrue();
            });
            assertThat(registry.getListener("manual").orElseThrow().isRunning())
                    .as("autoStartup=false")
                    .isFalse();
            assertThat(status.awaitListening(Duration.ofSeconds(20), channel + "-orders", channel + "-audit"))
                    .isTrue();

            assertThat(registry.getListener("orders").orElseThrow())
                    .hasToString("orders [" + channel + "-orders] running");
            assertThat(registry.getListener("manual").orElseThrow())
                    .hasToString("manual [" + channel + "-manual] stopped");

            registry.getListener("orders").orElseThrow().stop();
            assertThat(registry.getListener("orders").orElseThrow())
                    .hasToString("orders [" + channel + "-orders] stopped");
            await().atMost(Duration.ofSeconds(10)).until(() -> !status.isListening(channel + "-orders"));
            publisher.notify(channel + "-orders", "while stopped");
            publisher.notify(channel + "-audit", "audit goes on");
            await().atMost(Duration.ofSeconds(10)).until(() -> listener.audits.contains("audit goes on"));

            registry.getListener("orders").orElseThrow().start();
            assertThat(status.awaitListening(Duration.ofSeconds(10), channel + "-orders"))
                    .isTrue();
            publisher.notify(channel + "-orders", "after the start");
            await().atMost(Duration.ofSeconds(10)).until(() -> listener.orders.contains("after the start"));
            assertThat(listener.orders).containsExactly("after the start");

            registry.getListener("manual").orElseThrow().start();
            assertThat(status.awaitListening(Duration.ofSeconds(10), channel + "-manual"))
                    .isTrue();
            publisher.notify(channel + "-manual", "now");
            await().atMost(Duration.ofSeconds(10)).until(() -> listener.manual.contains("now"));
        });
    }

    @Test
    void aListenersOwnErrorHandlerGetsItsFailuresAndTheApplicationsTheOthers() {
        app().run(this::ownAndApplicationHandlersGetTheirListenersFailures);
    }

    /** "fragile" names its handler, "orders" none: each failure goes to the right one ("applicationErrors"). */
    private void ownAndApplicationHandlersGetTheirListenersFailures(AssertableApplicationContext context)
            throws InterruptedException {
        assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                .isTrue();
        PgPublisher publisher = context.getBean(PgPublisher.class);
        publisher.notify(channel + "-fragile", "boom");
        publisher.notify(channel + "-orders", "boom");
        Failures own = context.getBean("fragileFailures", Failures.class);
        Failures global = context.getBean("applicationFailures", Failures.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> own.listeners.size() == 1 && global.listeners.size() == 1);
        assertThat(own.listeners).containsExactly("fragile");
        assertThat(global.listeners).containsExactly("orders");
    }

    @Test
    void aHandlerThatOneListenerNamesStaysItsOwnWhenItIsTheOnlyOneAndTheOthersFailuresAreLogged(CapturedOutput output) {
        TestContexts.runner()
                .withUserConfiguration(NamedHandlerOnlyApp.class)
                .withPropertyValues("test.channel=" + channel)
                .run(context -> {
                    assertThat(((ListenerRegistry) context.getBean(PgListenerEndpointRegistry.class))
                                    .applicationErrorHandler())
                            .as("the application's handler")
                            .isInstanceOf(LoggingPgListenerErrorHandler.class);
                    assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                            .isTrue();
                    PgPublisher publisher = context.getBean(PgPublisher.class);
                    publisher.notify(channel + "-orders", "boom");
                    publisher.notify(channel + "-fragile", "boom");
                    Failures own = context.getBean(Failures.class);
                    await().atMost(Duration.ofSeconds(10))
                            .until(() ->
                                    own.listeners.size() == 1 && output.getAll().contains("@PgListener orders threw"));
                    assertThat(own.listeners).containsExactly("fragile");
                });
    }

    @Test
    void aHandlerNamedByALazyBeansListenerOrThroughAnAliasIsNotTheApplications() {
        TestContexts.runner()
                .withUserConfiguration(LazyAndAliasApp.class)
                .withPropertyValues("test.channel=" + channel)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(((ListenerRegistry) context.getBean(PgListenerEndpointRegistry.class))
                                    .applicationErrorHandler())
                            .as("both handlers are named (one through its alias, one only by a lazy bean's listener)")
                            .isInstanceOf(LoggingPgListenerErrorHandler.class);
                });
    }

    @Test
    void theOneHandlerNoListenerNamesIsTheApplicationsWithoutPrimary() {
        TestContexts.runner()
                .withUserConfiguration(NamedAndUnnamedHandlerApp.class)
                .withPropertyValues("test.channel=" + channel)
                .run(this::ownAndApplicationHandlersGetTheirListenersFailures);
    }

    @Test
    void twoHandlersNoListenerNamesAndNoneOfThemPrimaryFailStartUpNamingBoth() {
        TestContexts.runner()
                .withUserConfiguration(TwoUnnamedHandlersApp.class)
                .withPropertyValues("test.channel=" + channel)
                .run(context -> {
                    assertThat(context).hasFailed();
                    Throwable failure = context.getStartupFailure();
                    assertThat(failure).isInstanceOf(PgListenConfigurationException.class);
                    assertThat(failure.getMessage())
                            .contains("several PgListenerErrorHandler beans [first, second]")
                            .contains("none is @Primary");
                    assertThat(((PgListenConfigurationException) failure).action())
                            .contains("@Primary");
                });
    }

    @Test
    void theAutoStartupPropertyHoldsEveryListenerThatDoesNotSayOtherwise() {
        app().withPropertyValues("pg-ip-listen.auto-startup=false").run(context -> {
            PgListenerEndpointRegistry registry = context.getBean(PgListenerEndpointRegistry.class);
            assertThat(registry.getListeners())
                    .filteredOn(PgListenerEndpointRegistry.Listener::isRunning)
                    .extracting(PgListenerEndpointRegistry.Listener::id)
                    .isEmpty();
            assertThat(context.getBean(PgListenStatus.class)
                            .snapshot()
                            .channels()
                            .subscribed())
                    .isEmpty();
        });
    }

    @Test
    void listenersRegisteredAtRunTimeHandleTheirChannelsUntilUnregistered() {
        app().run(context -> {
            PgListenStatus status = context.getBean(PgListenStatus.class);
            PgListenerEndpointRegistry registry = context.getBean(PgListenerEndpointRegistry.class);
            PgPublisher publisher = context.getBean(PgPublisher.class);
            List<String> tenant = new CopyOnWriteArrayList<>();
            String tenantChannel = channel + "-tenant-7";
            registry.registerListener(
                    "tenant-7",
                    List.of(tenantChannel),
                    notification -> {
                        if (notification.payload().equals("bad")) {
                            throw new IllegalStateException("cannot");
                        }
                        tenant.add(notification.payload());
                    },
                    true);
            assertThat(status.awaitListening(Duration.ofSeconds(20), tenantChannel))
                    .isTrue();
            publisher.notify(tenantChannel, "bad");
            publisher.notify(tenantChannel, "hello");
            await().atMost(Duration.ofSeconds(10)).until(() -> tenant.contains("hello"));
            Failures global = context.getBean("applicationFailures", Failures.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> global.listeners.contains("tenant-7"));

            assertThat(registry.unregisterListener("tenant-7")).isTrue();
            assertThat(registry.getListener("tenant-7")).isEmpty();
            await().atMost(Duration.ofSeconds(10)).until(() -> !status.isListening(tenantChannel));
        });
    }

    @Test
    void badListenerOptionsFailStartUpNamingTheMethod() {
        assertThat(startUpFailure("missingHandlerListener", MissingHandlerListener.class))
                .contains("missingHandlerListener#on")
                .contains("errorHandler 'nowhere'");
        assertThat(startUpFailure("twiceListener", TwiceListener.class))
                .contains("'twice'")
                .contains("unique");
        assertThat(startUpFailure("badAutoStartupListener", BadAutoStartupListener.class))
                .contains("badAutoStartupListener#on")
                .contains("neither true nor false");
    }

    private <T> String startUpFailure(String beanName, Class<T> listener) {
        String[] message = new String[1];
        TestContexts.runner()
                .withBean(beanName, listener)
                .withPropertyValues("test.channel=" + channel)
                .run(context -> {
                    assertThat(context).hasFailed();
                    message[0] = org.springframework.core.NestedExceptionUtils.getMostSpecificCause(
                                    context.getStartupFailure())
                            .getMessage();
                });
        return message[0];
    }

    /** The listener ids an error handler was told of. */
    static class Failures {

        final List<String> listeners = new CopyOnWriteArrayList<>();

        PgListenerErrorHandler handler() {
            return (notification, exception) -> listeners.add(exception.listener());
        }
    }

    static class OptionsListener {

        final List<String> orders = new CopyOnWriteArrayList<>();
        final List<String> audits = new CopyOnWriteArrayList<>();
        final List<String> manual = new CopyOnWriteArrayList<>();

        @PgListener(value = "${test.channel}-orders", id = "orders")
        void onOrder(String payload) {
            if (payload.equals("boom")) {
                throw new IllegalStateException("boom");
            }
            orders.add(payload);
        }

        @PgListener("${test.channel}-audit")
        void onAudit(String payload) {
            audits.add(payload);
        }

        @PgListener(value = "${test.channel}-manual", id = "manual", autoStartup = "false")
        void onManual(String payload) {
            manual.add(payload);
        }

        @PgListener(value = "${test.channel}-fragile", id = "fragile", errorHandler = "fragileErrors")
        void onFragile(String payload) {
            throw new IllegalStateException("always");
        }
    }

    /** The listeners and the handler that one of them ("fragile") names, the only handler bean; "orders" names none. */
    @Configuration(proxyBeanMethods = false)
    static class NamedHandlerOnlyApp {

        @Bean
        OptionsListener optionsListener() {
            return new OptionsListener();
        }

        @Bean
        Failures fragileFailures() {
            return new Failures();
        }

        @Bean
        PgListenerErrorHandler fragileErrors(Failures fragileFailures) {
            return fragileFailures.handler();
        }
    }

    /** Beside the named handler, one that no listener names, not primary: the application's all the same. */
    @Configuration(proxyBeanMethods = false)
    @Import(NamedHandlerOnlyApp.class)
    static class NamedAndUnnamedHandlerApp {

        @Bean
        Failures applicationFailures() {
            return new Failures();
        }

        @Bean
        PgListenerErrorHandler applicationErrors(Failures applicationFailures) {
            return applicationFailures.handler();
        }
    }

    /** Beside the named handler, the application's: the primary one of several. */
    @Configuration(proxyBeanMethods = false)
    @Import(NamedHandlerOnlyApp.class)
    static class OptionsApp {

        @Bean
        Failures applicationFailures() {
            return new Failures();
        }

        @Bean
        @Primary
        PgListenerErrorHandler applicationErrors(Failures applicationFailures) {
            return applicationFailures.handler();
        }
    }

    static class AliasListener {

        @PgListener(value = "${test.channel}-alias", errorHandler = "aliasOfFirst")
        void on(String payload) {}
    }

    static class LazyListener {

        @PgListener(value = "${test.channel}-lazy", errorHandler = "second")
        void on(String payload) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class LazyAndAliasApp {

        @Bean
        AliasListener aliasListener() {
            return new AliasListener();
        }

        @Bean
        @org.springframework.context.annotation.Lazy
        LazyListener lazyListener() {
            return new LazyListener();
        }

        @Bean({"first", "aliasOfFirst"})
        PgListenerErrorHandler first() {
            return (notification, exception) -> {};
        }

        @Bean
        PgListenerErrorHandler second() {
            return (notification, exception) -> {};
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class TwoUnnamedHandlersApp {

        @Bean
        PgListenerErrorHandler first() {
            return (notification, exception) -> {};
        }

        @Bean
        PgListenerErrorHandler second() {
            return (notification, exception) -> {};
        }
    }

    static class MissingHandlerListener {

        @PgListener(value = "${test.channel}", errorHandler = "nowhere")
        void on(String payload) {}
    }

    static class TwiceListener {

        @PgListener(value = "${test.channel}-a", id = "twice")
        void a(String payload) {}

        @PgListener(value = "${test.channel}-b", id = "twice")
        void b(String payload) {}
    }

    static class BadAutoStartupListener {

        @PgListener(value = "${test.channel}", autoStartup = "maybe")
        void on(String payload) {}
    }
}

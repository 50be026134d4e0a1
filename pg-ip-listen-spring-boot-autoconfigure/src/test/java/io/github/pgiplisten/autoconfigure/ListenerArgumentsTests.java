package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.core.MethodParameter;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.messaging.Message;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.messaging.handler.invocation.HandlerMethodArgumentResolver;
import org.springframework.transaction.support.TransactionTemplate;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.PgListenerHeaders;
import io.github.pgiplisten.PgPublisher;

/**
 * Listener method arguments on Spring's messaging handler methods: {@code @Payload @Valid}, {@code @Header} for the
 * channel and the sender's pid, {@code Message<String>}, and a custom argument resolver bean.
 */
class ListenerArgumentsTests {

    private final String channel = TestContexts.channel("arguments");

    private ApplicationContextRunner app() {
        return TestContexts.runner()
                .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
                .withUserConfiguration(ArgumentsApp.class)
                .withPropertyValues("test.channel=" + channel);
    }

    @Test
    void payloadsAreValidatedAndHeadersMessagesAndCustomArgumentsAreFilled() {
        app().run(context -> {
            assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                    .isTrue();
            PgPublisher publisher = context.getBean(PgPublisher.class);
            ArgumentsListener listener = context.getBean(ArgumentsListener.class);
            Failures failures = context.getBean(Failures.class);
            // in one transaction, so the notification leaves from the connection whose pid is asked
            DataSource dataSource = context.getBean(DataSource.class);
            Integer publisherPid = new TransactionTemplate(new DataSourceTransactionManager(dataSource))
                    .execute(status -> {
                        publisher.notify(channel + "-orders", new Order(7, "tea"));
                        return new JdbcTemplate(dataSource).queryForObject("SELECT pg_backend_pid()", Integer.class);
                    });
            publisher.notify(channel + "-orders", new Order(-1, " "));
            publisher.notify(channel + "-raw", "as a message");
            publisher.notify(channel + "-tenant-acme", "for a tenant");
            await().atMost(Duration.ofSeconds(10)).until(() -> listener.seen.size() == 3 && failures.seen.size() == 1);

            assertThat(listener.seen)
                    .contains(
                            "order 7 tea on " + channel + "-orders from pid " + publisherPid,
                            "message 'as a message' on " + channel + "-raw",
                            "tenant acme: for a tenant");
            PgListenerExecutionFailedException failure = failures.seen.get(0);
            assertThat(failure.listener()).isEqualTo("argumentsListener#onOrder");
            assertThat(failure).hasMessageContaining("got a payload that is not valid");
            assertThat(failure.getCause())
                    .isInstanceOf(
                            org.springframework.messaging.handler.annotation.support.MethodArgumentNotValidException
                                    .class)
                    .hasMessageContaining("id")
                    .hasMessageContaining("item");
        });
    }

    @Test
    void twoPayloadParametersBesideHeadersStillFailStartUp() {
        TestContexts.runner()
                .withBean("twoPayloads", TwoPayloads.class)
                .withPropertyValues("test.channel=" + channel)
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(org.springframework.core.NestedExceptionUtils.getMostSpecificCause(
                                            context.getStartupFailure())
                                    .getMessage())
                            .contains("twoPayloads#on")
                            .contains("at most one payload parameter");
                });
    }

    record Order(@Positive long id, @NotBlank String item) {}

    /** A parameter a custom resolver fills: the tenant, from the channel's last part. */
    record Tenant(String name) {}

    static class TenantResolver implements HandlerMethodArgumentResolver {

        @Override
        public boolean supportsParameter(MethodParameter parameter) {
            return parameter.getParameterType() == Tenant.class;
        }

        @Override
        public Object resolveArgument(MethodParameter parameter, Message<?> message) {
            String channel = (String) message.getHeaders().get(PgListenerHeaders.CHANNEL);
            return new Tenant(channel.substring(channel.lastIndexOf('-') + 1));
        }
    }

    static class ArgumentsListener {

        final List<String> seen = new CopyOnWriteArrayList<>();

        @PgListener("${test.channel}-orders")
        void onOrder(
                @Payload @Valid Order order,
                @Header(PgListenerHeaders.CHANNEL) String channel,
                @Header(PgListenerHeaders.SENDER_PID) int senderPid) {
            seen.add("order " + order.id() + " " + order.item() + " on " + channel + " from pid " + senderPid);
        }

        @PgListener("${test.channel}-raw")
        void onRaw(Message<String> message) {
            seen.add("message '" + message.getPayload() + "' on "
                    + message.getHeaders().get(PgListenerHeaders.CHANNEL));
        }

        @PgListener("${test.channel}-tenant-acme")
        void onTenant(Tenant tenant, String payload) {
            seen.add("tenant " + tenant.name() + ": " + payload);
        }
    }

    static class Failures {

        final List<PgListenerExecutionFailedException> seen = new CopyOnWriteArrayList<>();
    }

    @Configuration(proxyBeanMethods = false)
    static class ArgumentsApp {

        @Bean
        ArgumentsListener argumentsListener() {
            return new ArgumentsListener();
        }

        @Bean
        TenantResolver tenantResolver() {
            return new TenantResolver();
        }

        @Bean
        Failures failures() {
            return new Failures();
        }

        @Bean
        @Primary
        PgListenerErrorHandler recordingErrors(Failures failures) {
            return (notification, exception) -> failures.seen.add(exception);
        }
    }

    static class TwoPayloads {

        @PgListener("${test.channel}")
        void on(String one, Order two, @Header(PgListenerHeaders.CHANNEL) String channel) {}
    }
}

package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.core.MethodParameter;
import org.springframework.messaging.Message;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Headers;
import org.springframework.messaging.handler.annotation.support.DefaultMessageHandlerMethodFactory;
import org.springframework.messaging.handler.invocation.HandlerMethodArgumentResolver;
import org.springframework.messaging.handler.invocation.InvocableHandlerMethod;
import org.springframework.util.ReflectionUtils;

import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.PgListenerHeaders;
import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.core.PgNotification;

/**
 * How a {@code @PgListener} method's parameters take a notification, without a Spring context or a database: which
 * parameters count as the payload, what each payload type receives, and what the header parameters receive on the
 * two ways a method is called (straight, or through Spring's messaging handler methods).
 */
class ListenerArgumentMappingTests {

    private static final PgNotification ORDER = new PgNotification("orders", "7:tea", 4242);

    /** Reads "id:item" as an {@link Order}; "null" reads as null, anything else without a colon fails. */
    private static final PgPayloadConverter CONVERTER = new PgPayloadConverter() {

        @Override
        public String write(Object value) {
            return value.toString();
        }

        @Override
        public Object read(String payload, Type type) {
            if (payload.equals("null")) {
                return null;
            }
            String[] parts = payload.split(":");
            if (parts.length != 2) {
                throw new IllegalArgumentException("not id:item");
            }
            Order order = new Order(Long.parseLong(parts[0]), parts[1]);
            return type.getTypeName().startsWith(Optional.class.getName()) ? Optional.of(order) : order;
        }
    };

    record Order(long id, String item) {}

    static class Listeners {

        final List<Object> arguments = new ArrayList<>();

        void text(String payload) {
            arguments.add(payload);
        }

        void typedWithNotification(Order order, PgNotification notification) {
            arguments.add(order);
            arguments.add(notification);
        }

        void withHeaders(
                String payload,
                @Header(PgListenerHeaders.CHANNEL) String channel,
                @Header(PgListenerHeaders.SENDER_PID) int pid,
                @Headers Map<String, Object> headers) {
            arguments.add(payload);
            arguments.add(channel);
            arguments.add(pid);
            arguments.add(headers.get(PgListenerHeaders.NOTIFICATION));
        }

        void message(Message<String> message) {
            arguments.add(message.getPayload());
        }

        void twoPayloads(String one, Order two) {}

        void twoNotifications(PgNotification one, PgNotification two) {}

        void withTenant(String payload, Tenant tenant) {}
    }

    record Tenant(String name) {}

    private static Method method(String name) {
        return java.util.Arrays.stream(Listeners.class.getDeclaredMethods())
                .filter(method -> method.getName().equals(name))
                .findFirst()
                .orElseThrow();
    }

    private static ListenerSignature signature(String name, HandlerMethodArgumentResolver... custom) {
        Method method = method(name);
        return ListenerSignature.of("listeners#" + name, method, method, List.of(custom), false);
    }

    @Nested
    class WhichParametersArePayloads {

        @Test
        void aStringPayloadNeedsNoConverterAndIsCalledStraight() {
            ListenerSignature signature = signature("text");
            assertThat(signature.convertedTypes()).isEmpty();
            assertThat(signature.plain()).isTrue();
        }

        @Test
        void aTypedPayloadIsReadByTheConverterAndTheNotificationIsNoPayload() {
            ListenerSignature signature = signature("typedWithNotification");
            assertThat(signature.convertedTypes()).containsExactly(Order.class);
            assertThat(signature.plain()).isTrue();
        }

        @Test
        void headersAndTheMessageAreNoPayloadsButNeedTheMessagingPath() {
            assertThat(signature("withHeaders").convertedTypes()).isEmpty();
            assertThat(signature("withHeaders").plain()).isFalse();
            assertThat(signature("message").convertedTypes()).isEmpty();
        }

        @Test
        void aParameterACustomResolverFillsIsNoPayload() {
            HandlerMethodArgumentResolver tenants = new HandlerMethodArgumentResolver() {

                @Override
                public boolean supportsParameter(MethodParameter parameter) {
                    return parameter.getParameterType() == Tenant.class;
                }

                @Override
                public Object resolveArgument(MethodParameter parameter, Message<?> message) {
                    return new Tenant("acme");
                }
            };
            ListenerSignature signature = signature("withTenant", tenants);
            assertThat(signature.convertedTypes()).isEmpty();
            assertThat(signature.plain()).isFalse();
            assertThatThrownBy(() -> signature("withTenant")).isInstanceOf(PgListenConfigurationException.class);
        }

        @Test
        void twoPayloadsOrTwoNotificationsFailNamingTheMethodAndItsParameters() {
            assertThatThrownBy(() -> signature("twoPayloads"))
                    .isInstanceOf(PgListenConfigurationException.class)
                    .hasMessageContaining("@PgListener method listeners#twoPayloads has 2 parameters (java.lang.String")
                    .hasMessageContaining("at most one payload parameter");
            assertThatThrownBy(() -> signature("twoNotifications"))
                    .isInstanceOf(PgListenConfigurationException.class)
                    .hasMessageContaining("at most one PgNotification");
        }
    }

    @Nested
    class WhatAPayloadParameterReceives {

        private final PayloadArgumentResolver resolver = new PayloadArgumentResolver("listeners#on", CONVERTER, null);

        @Test
        void aStringTakesThePayloadAsSentAnEmptyOneToo() {
            assertThat(resolver.payload(ORDER, String.class, String.class)).isEqualTo("7:tea");
            assertThat(resolver.payload(new PgNotification("orders", "", 1), String.class, String.class))
                    .isEqualTo("");
        }

        @Test
        void anyOtherTypeIsReadByTheConverter() {
            assertThat(resolver.payload(ORDER, Order.class, Order.class)).isEqualTo(new Order(7, "tea"));
        }

        @Test
        void aPayloadTheConverterCannotReadFailsNamingTheListenerAndTheType() {
            PgNotification bad = new PgNotification("orders", "tea", 1);
            assertThatThrownBy(() -> resolver.payload(bad, Order.class, Order.class))
                    .isInstanceOf(PgListenerExecutionFailedException.class)
                    .hasMessageContaining("@PgListener listeners#on could not read the payload as ")
                    .hasMessageContaining(Order.class.getTypeName())
                    .hasRootCauseMessage("not id:item");
        }

        @Test
        void aPayloadThatReadsAsNullFailsAndSuggestsOptional() {
            PgNotification nothing = new PgNotification("orders", "null", 1);
            assertThatThrownBy(() -> resolver.payload(nothing, Order.class, Order.class))
                    .isInstanceOf(PgListenerExecutionFailedException.class)
                    .hasMessageContaining("take Optional<");
        }
    }

    @Nested
    class WhatAMethodIsCalledWith {

        private final Listeners listeners = new Listeners();

        private PgListenerEndpoint endpoint(String name, boolean straight) {
            Method method = method(name);
            PayloadArgumentResolver payload = new PayloadArgumentResolver("listeners#" + name, CONVERTER, null);
            DefaultMessageHandlerMethodFactory factory = new DefaultMessageHandlerMethodFactory();
            factory.setCustomArgumentResolvers(List.of(payload));
            factory.afterPropertiesSet();
            InvocableHandlerMethod handler = factory.createInvocableHandlerMethod(listeners, method);
            PgListenerEndpoint.Direct direct = straight
                    ? new PgListenerEndpoint.Direct(
                            listeners, method, method.getParameterTypes(), method.getGenericParameterTypes(), payload)
                    : null;
            return new PgListenerEndpoint(
                    "listeners#" + name,
                    List.of("orders"),
                    handler,
                    direct,
                    null,
                    List.of(),
                    CONVERTER,
                    true,
                    false,
                    null);
        }

        @Test
        void straightTheTypedPayloadAndTheNotificationItself() {
            endpoint("typedWithNotification", true).invoke(ORDER);
            assertThat(listeners.arguments).containsExactly(new Order(7, "tea"), ORDER);
        }

        @Test
        void throughAMessageTheSamePayloadAndNotification() {
            endpoint("typedWithNotification", false).invoke(ORDER);
            assertThat(listeners.arguments).containsExactly(new Order(7, "tea"), ORDER);
        }

        @Test
        void headersTheChannelTheSendersPidAndTheNotification() {
            endpoint("withHeaders", false).invoke(ORDER);
            assertThat(listeners.arguments).containsExactly("7:tea", "orders", 4242, ORDER);
        }

        @Test
        void aMessageThePayloadAsSent() {
            endpoint("message", false).invoke(ORDER);
            assertThat(listeners.arguments).containsExactly("7:tea");
        }

        @Test
        void aMethodThatThrowsFailsWithWhatItThrewEitherWay() {
            Listeners throwing = new Listeners() {
                @Override
                void text(String payload) {
                    throw new IllegalStateException("no " + payload);
                }
            };
            Method method = ReflectionUtils.findMethod(Listeners.class, "text", String.class);
            PayloadArgumentResolver payload = new PayloadArgumentResolver("listeners#text", null, null);
            PgListenerEndpoint.Direct direct = new PgListenerEndpoint.Direct(
                    throwing, method, method.getParameterTypes(), method.getGenericParameterTypes(), payload);
            assertThatThrownBy(() -> direct.invoke("listeners#text", ORDER, null))
                    .isInstanceOf(PgListenerExecutionFailedException.class)
                    .hasMessageStartingWith("@PgListener listeners#text threw on channel 'orders'")
                    .hasRootCauseMessage("no 7:tea");
        }
    }
}

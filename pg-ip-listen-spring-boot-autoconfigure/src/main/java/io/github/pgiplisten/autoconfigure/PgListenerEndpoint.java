package io.github.pgiplisten.autoconfigure;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.springframework.messaging.Message;
import org.springframework.messaging.MessageHeaders;
import org.springframework.messaging.handler.annotation.support.MethodArgumentNotValidException;
import org.springframework.messaging.handler.invocation.InvocableHandlerMethod;
import org.springframework.messaging.handler.invocation.MethodArgumentResolutionException;
import org.springframework.messaging.support.GenericMessage;
import org.springframework.util.ReflectionUtils;

import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.PgListenerHeaders;
import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.durable.DurableMessage;

/**
 * One {@code @PgListener} method, checked at start-up: its channels (placeholders resolved, names validated) and how
 * each parameter is filled from a notification. It is called through Spring's messaging handler methods: the
 * notification becomes a {@link Message} whose payload is the payload text and whose headers are the channel, the
 * sender's pid and the notification ({@link PgListenerHeaders}), so {@code @Header}, {@code @Headers},
 * {@code Message} and custom argument resolvers work; the payload parameter is filled by
 * {@link PayloadArgumentResolver}.
 */
final class PgListenerEndpoint {

    private final String id;
    private final List<String> channels;
    private final InvocableHandlerMethod handler;
    private final @Nullable Direct direct;
    private final @Nullable Batch batch;
    private final boolean autoStartup;
    private final boolean durable;
    private final @Nullable PgListenerErrorHandler errorHandler;

    /**
     * @param direct how to call the method without Spring's messaging handler method, when it takes nothing but its
     * payload and the notification, unannotated: the common case, about twice as fast (BENCHMARKS.md); null otherwise
     */
    PgListenerEndpoint(
            String id,
            List<String> channels,
            InvocableHandlerMethod handler,
            @Nullable Direct direct,
            @Nullable Batch batch,
            List<Type> payloadTypes,
            @Nullable PgPayloadConverter converter,
            boolean autoStartup,
            boolean durable,
            @Nullable PgListenerErrorHandler errorHandler) {
        this.id = id;
        this.channels = List.copyOf(channels);
        this.handler = handler;
        this.direct = direct;
        this.batch = batch;
        this.autoStartup = autoStartup;
        this.durable = durable;
        this.errorHandler = errorHandler;
        if (converter != null) {
            for (Type type : payloadTypes) {
                prepare(converter, type);
            }
        }
    }

    /** Readies the reader of a payload type now: a takeover should not be the first to build it. */
    private static void prepare(PgPayloadConverter converter, Type type) {
        try {
            converter.prepare(type);
        } catch (RuntimeException ex) {
            // a type the converter cannot prepare may still read; the first notification will tell
        }
    }

    /** {@code @PgListener(id)}, or {@code beanName#methodName}. */
    String id() {
        return id;
    }

    /** Whether it starts with the application. */
    boolean autoStartup() {
        return autoStartup;
    }

    /** Whether its channels are durable ({@code @PgListener(durable = true)}). */
    boolean durable() {
        return durable;
    }

    /** Whether it takes a durable channel's messages a batch at a time ({@code @PgListener(batch = true)}). */
    boolean batch() {
        return batch != null;
    }

    /** Its own error handler ({@code @PgListener(errorHandler)}), or null for the application's. */
    @Nullable
    PgListenerErrorHandler errorHandler() {
        return errorHandler;
    }

    List<String> channels() {
        return channels;
    }

    /**
     * Calls the method for a notification.
     * @throws PgListenerExecutionFailedException when the payload cannot be read, is not valid, or the method throws
     */
    void invoke(PgNotification notification) {
        invoke(notification, null);
    }

    /**
     * Calls the method for a durable message, as for a notification of its channel and payload whose sender is not
     * known (pid 0), and with the message for a {@code DurableMessage} parameter and the headers.
     * @throws PgListenerExecutionFailedException when the payload cannot be read, is not valid, or the method throws
     */
    void invoke(DurableMessage message) {
        invoke(notification(message), message);
    }

    /** A durable message as the notification of its channel and payload whose sender is not known (pid 0). */
    private static PgNotification notification(DurableMessage message) {
        return new PgNotification(message.channel(), message.payload(), 0);
    }

    /**
     * Calls a batch listener's method with the batch.
     * @throws PgListenerExecutionFailedException when a payload cannot be read (naming that message), when the batch
     * is one message the method throws on, or when the method throws an {@code Error}; otherwise what the method
     * threw on a batch of several, as it is (the consumer then hands its messages over one at a time)
     */
    void invoke(List<DurableMessage> messages) throws Exception {
        if (batch == null) {
            throw new IllegalStateException("Listener " + id + " takes one message at a time");
        }
        batch.invoke(id, messages);
    }

    private void invoke(PgNotification notification, @Nullable DurableMessage message) {
        if (direct != null) {
            direct.invoke(id, notification, message);
            return;
        }
        Map<String, Object> headers = new HashMap<>(6);
        headers.put(PgListenerHeaders.CHANNEL, notification.channel());
        headers.put(PgListenerHeaders.SENDER_PID, notification.senderPid());
        headers.put(PgListenerHeaders.NOTIFICATION, notification);
        if (message != null) {
            headers.put(PgListenerHeaders.DURABLE_MESSAGE, message);
            headers.put(PgListenerHeaders.MESSAGE_ID, message.id());
        }
        try {
            handler.invoke(new GenericMessage<>(notification.payload(), new NotificationHeaders(headers)));
        } catch (PgListenerExecutionFailedException ex) {
            throw ex;
        } catch (MethodArgumentNotValidException ex) {
            throw new PgListenerExecutionFailedException(id, notification, "got a payload that is not valid", ex);
        } catch (MethodArgumentResolutionException ex) {
            throw new PgListenerExecutionFailedException(id, notification, "could not get its arguments", ex);
        } catch (Exception | Error ex) {
            // Spring's handler method rethrows what the method threw, errors too (AssertionError in a test)
            throw new PgListenerExecutionFailedException(id, notification, "threw", ex);
        }
    }

    @Override
    public String toString() {
        return id + " " + channels;
    }

    /**
     * A method called straight through reflection: each parameter is the payload (as {@link PayloadArgumentResolver}
     * reads it), the notification or the durable message.
     */
    record Direct(Object bean, Method method, Class<?>[] types, Type[] generics, PayloadArgumentResolver payload) {

        Direct {
            ReflectionUtils.makeAccessible(method);
        }

        void invoke(String id, PgNotification notification, @Nullable DurableMessage message) {
            @Nullable Object[] arguments = new Object[types.length];
            for (int i = 0; i < types.length; i++) {
                if (types[i] == PgNotification.class) {
                    arguments[i] = notification;
                } else if (types[i] == DurableMessage.class) {
                    arguments[i] = message;
                } else {
                    arguments[i] = payload.payload(notification, types[i], generics[i]);
                }
            }
            try {
                method.invoke(bean, arguments);
            } catch (InvocationTargetException ex) {
                throw new PgListenerExecutionFailedException(id, notification, "threw", ex.getTargetException());
            } catch (IllegalAccessException ex) {
                throw new PgListenerExecutionFailedException(id, notification, "could not be called", ex);
            }
        }
    }

    /**
     * A batch listener's method, called straight through reflection with the list its one parameter takes: the
     * payloads as sent ({@code String}), the messages, or the payloads read by the converter.
     */
    record Batch(Object bean, Method method, Class<?> element, Type elementType, PayloadArgumentResolver payload) {

        Batch {
            ReflectionUtils.makeAccessible(method);
        }

        void invoke(String id, List<DurableMessage> messages) throws Exception {
            List<Object> arguments = new ArrayList<>(messages.size());
            for (DurableMessage message : messages) {
                if (element == DurableMessage.class) {
                    arguments.add(message);
                } else {
                    arguments.add(payload.payload(notification(message), element, elementType));
                }
            }
            try {
                method.invoke(bean, Collections.unmodifiableList(arguments));
            } catch (InvocationTargetException ex) {
                Throwable thrown = ex.getTargetException();
                if (messages.size() > 1 && thrown instanceof Exception exception) {
                    throw exception; // the consumer says which batch, and hands its messages over one at a time
                }
                // one message, or an Error (an OutOfMemoryError a smaller batch may not meet): wrapped as a
                // per-message listener's, so that it counts as the failure of a message or a batch, not the reader's
                throw new PgListenerExecutionFailedException(
                        id,
                        notification(messages.get(0)),
                        messages.size() == 1 ? "threw" : "threw on a batch of " + messages.size() + " messages from",
                        thrown);
            } catch (IllegalAccessException ex) {
                throw new PgListenerExecutionFailedException(
                        id, notification(messages.get(0)), "could not be called", ex);
            }
        }
    }

    /** Headers without the generated id and timestamp, which nobody here reads and which cost every notification. */
    private static final class NotificationHeaders extends MessageHeaders {

        private static final long serialVersionUID = 1L;

        NotificationHeaders(Map<String, Object> headers) {
            super(headers, ID_VALUE_NONE, -1L);
        }
    }
}

package io.github.pgiplisten.autoconfigure;

import java.lang.reflect.Type;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;
import org.springframework.core.MethodParameter;
import org.springframework.messaging.Message;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Headers;
import org.springframework.messaging.handler.annotation.support.MethodArgumentNotValidException;
import org.springframework.messaging.handler.invocation.HandlerMethodArgumentResolver;
import org.springframework.validation.BeanPropertyBindingResult;
import org.springframework.validation.SmartValidator;
import org.springframework.validation.Validator;
import org.springframework.validation.annotation.ValidationAnnotationUtils;

import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.PgListenerHeaders;
import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.durable.DurableMessage;

/**
 * A listener method's payload parameter (unannotated or {@code @Payload}): the payload as sent for a {@code String}
 * (an empty one too), read by the {@link PgPayloadConverter} for any other type ({@code Optional<T>} takes JSON
 * {@code null} as empty), then validated when the parameter is {@code @Valid} or {@code @Validated}. A payload that
 * cannot be read fails with a {@link PgListenerExecutionFailedException} saying so. Also the {@code PgNotification}
 * parameter.
 */
final class PayloadArgumentResolver implements HandlerMethodArgumentResolver {

    private final String listenerId;
    private final @Nullable PgPayloadConverter converter;
    private final @Nullable Validator validator;

    PayloadArgumentResolver(String listenerId, @Nullable PgPayloadConverter converter, @Nullable Validator validator) {
        this.listenerId = listenerId;
        this.converter = converter;
        this.validator = validator;
    }

    /** Whether a parameter is the notification or its payload (not a header, the message, or another's). */
    static boolean isPayload(MethodParameter parameter) {
        return !parameter.hasParameterAnnotation(Header.class)
                && !parameter.hasParameterAnnotation(Headers.class)
                && !Message.class.isAssignableFrom(parameter.getParameterType())
                && !org.springframework.messaging.MessageHeaders.class.isAssignableFrom(parameter.getParameterType());
    }

    @Override
    public boolean supportsParameter(MethodParameter parameter) {
        return isPayload(parameter);
    }

    @Override
    public @Nullable Object resolveArgument(MethodParameter parameter, Message<?> message) throws Exception {
        PgNotification notification =
                Objects.requireNonNull(message.getHeaders().get(PgListenerHeaders.NOTIFICATION, PgNotification.class));
        Class<?> type = parameter.getParameterType();
        if (type == PgNotification.class) {
            return notification;
        }
        if (type == DurableMessage.class) {
            return message.getHeaders().get(PgListenerHeaders.DURABLE_MESSAGE, DurableMessage.class);
        }
        Object value = payload(notification, type, parameter.getGenericParameterType());
        validate(parameter, value, message);
        return value;
    }

    /** The payload as a parameter of that type takes it: as sent for a String, else read by the converter. */
    Object payload(PgNotification notification, Class<?> type, Type generic) {
        if (type == String.class) {
            return notification.payload();
        }
        Object value = read(notification, generic);
        if (value == null) {
            throw new PgListenerExecutionFailedException(
                    listenerId,
                    notification,
                    "could not read the payload as " + generic.getTypeName(),
                    new IllegalArgumentException(
                            "the payload reads as null; take Optional<" + generic.getTypeName() + "> to accept it"));
        }
        return value;
    }

    private @Nullable Object read(PgNotification notification, Type type) {
        try {
            return Objects.requireNonNull(converter).read(notification.payload(), type);
        } catch (RuntimeException ex) {
            throw new PgListenerExecutionFailedException(
                    listenerId, notification, "could not read the payload as " + type.getTypeName(), ex);
        }
    }

    /** {@code @Valid} / {@code @Validated} payloads, as Spring's {@code PayloadMethodArgumentResolver} does it. */
    private void validate(MethodParameter parameter, @Nullable Object value, Message<?> message)
            throws MethodArgumentNotValidException {
        if (validator == null || value == null) {
            return;
        }
        for (java.lang.annotation.Annotation annotation : parameter.getParameterAnnotations()) {
            Object[] hints = ValidationAnnotationUtils.determineValidationHints(annotation);
            if (hints != null) {
                Object target = value instanceof Optional<?> optional ? optional.orElse(null) : value;
                if (target == null) {
                    return;
                }
                BeanPropertyBindingResult errors = new BeanPropertyBindingResult(
                        target, parameter.getParameterName() != null ? parameter.getParameterName() : "payload");
                if (hints.length > 0 && validator instanceof SmartValidator smart) {
                    smart.validate(target, errors, hints);
                } else {
                    validator.validate(target, errors);
                }
                if (errors.hasErrors()) {
                    throw new MethodArgumentNotValidException(message, parameter, errors);
                }
                return;
            }
        }
    }
}

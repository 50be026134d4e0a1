package io.github.pgiplisten.autoconfigure;

import static io.github.pgiplisten.autoconfigure.PgListenerAnnotationBeanPostProcessor.invalid;

import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.springframework.core.MethodParameter;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.SynthesizingMethodParameter;
import org.springframework.messaging.Message;
import org.springframework.messaging.MessageHeaders;
import org.springframework.messaging.handler.invocation.HandlerMethodArgumentResolver;

import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.durable.DurableMessage;

/**
 * What a {@code @PgListener} method's parameters take from a notification, checked once at start-up so that a
 * signature the listener could never fill fails there, naming the method: at most one payload parameter (a
 * {@code String} as sent, any other type read by the converter) and at most one {@link PgNotification}, besides
 * headers, the message and what the application's argument resolvers fill.
 *
 * @param convertedTypes the payload types the converter has to read (none for a {@code String} payload)
 * @param plain whether the method takes nothing but its payload and the notification, unannotated, so it can be
 * called straight ({@link PgListenerEndpoint.Direct}) instead of through a message
 */
record ListenerSignature(List<Type> convertedTypes, boolean plain) {

    /**
     * @param invocable the method as called on the bean (the interface's one behind a JDK proxy)
     * @param custom the application's argument resolvers: a parameter one of them fills is theirs
     * @param durable whether it is a durable listener (which may take a {@link DurableMessage})
     * @throws PgListenConfigurationException when the method takes more than one payload or notification, or a
     * {@link DurableMessage} without being durable
     */
    static ListenerSignature of(
            String id, Method method, Method invocable, List<HandlerMethodArgumentResolver> custom, boolean durable) {
        Parameter[] parameters = method.getParameters();
        List<Type> converted = new ArrayList<>();
        int payloadParameters = 0;
        int notificationParameters = 0;
        int durableParameters = 0;
        for (int i = 0; i < parameters.length; i++) {
            MethodParameter parameter = new SynthesizingMethodParameter(invocable, i);
            if (!PayloadArgumentResolver.isPayload(parameter)
                    || custom.stream().anyMatch(resolver -> resolver.supportsParameter(parameter))) {
                continue; // a header, the message, or a custom resolver's
            }
            Class<?> type = parameters[i].getType();
            if (type == DurableMessage.class) {
                if (!durable) {
                    throw invalid(
                            id,
                            "takes a DurableMessage, which only a durable listener gets",
                            "Add durable = true to its @PgListener (and publish with PgPublisher.publish), or take a"
                                    + " PgNotification.");
                }
                durableParameters++;
            } else if (type == PgNotification.class) {
                notificationParameters++;
            } else {
                payloadParameters++;
                if (type != String.class) {
                    converted.add(parameters[i].getParameterizedType());
                }
            }
        }
        if (payloadParameters > 1 || notificationParameters > 1 || durableParameters > 1) {
            throw invalid(
                    id,
                    "has " + parameters.length + " parameters "
                            + signature(parameters)
                            + "; a @PgListener method takes at most one payload parameter (String, "
                            + "or a type read from JSON) and at most one PgNotification (or DurableMessage), besides"
                            + " @Header, @Headers and "
                            + "Message parameters",
                    "Keep one payload parameter, or take the PgNotification and read its " + "payload yourself.");
        }
        boolean plain = custom.isEmpty()
                && Arrays.stream(parameters).allMatch(parameter -> parameter.getAnnotations().length == 0);
        return new ListenerSignature(List.copyOf(converted), plain);
    }

    /**
     * A batch listener's element type: its method takes exactly one parameter, unannotated, a {@code List} of
     * {@code String}, {@link DurableMessage} or a type read from JSON. A type variable (a generic base class or
     * interface) is resolved against the bean's class, a wildcard to its bound ({@code List<? extends Event>}, as
     * Kotlin declares {@code List<Event>} of an open type).
     * @param beanClass the bean's own class (not a proxy's)
     * @throws PgListenConfigurationException when it is not durable, or its method takes anything else
     */
    static Type batchElement(String id, Method method, Class<?> beanClass, boolean durable) {
        if (!durable) {
            throw invalid(
                    id,
                    "is a batch listener and not durable: notifications come one at a time, only a durable"
                            + " channel's messages come in batches",
                    "Add durable = true (and publish with PgPublisher.publish), or remove batch = true.");
        }
        Parameter[] parameters = method.getParameters();
        Type element = null;
        if (parameters.length == 1
                && parameters[0].getType() == List.class
                && parameters[0].getAnnotations().length == 0) {
            ResolvableType generic =
                    ResolvableType.forMethodParameter(method, 0, beanClass).getGeneric(0);
            Class<?> resolved = generic.resolve();
            if (generic.getType() instanceof Class<?> || generic.getType() instanceof ParameterizedType) {
                element = generic.getType();
            } else if (resolved != null && resolved != Object.class) {
                element = resolved; // a type variable or a wildcard, by its resolution or bound
            }
        }
        if (element == null) {
            throw invalid(
                    id,
                    "is a batch listener and takes " + signature(parameters) + "; a batch listener takes exactly one"
                            + " parameter, unannotated: a List of String (the payloads as sent), of DurableMessage,"
                            + " or of a type read from JSON",
                    "Take List<String>, List<DurableMessage> or List<YourPayload>; validate the payloads in the"
                            + " method (@Valid does not apply to a batch).");
        }
        Class<?> type = ResolvableType.forType(element).toClass();
        if (type == PgNotification.class
                || Message.class.isAssignableFrom(type)
                || MessageHeaders.class.isAssignableFrom(type)) {
            throw invalid(
                    id,
                    "is a batch listener of " + type.getSimpleName() + "s, which a batch does not hand over (it"
                            + " hands over payloads or DurableMessages)",
                    "Take List<DurableMessage> for each message's channel, id and payload, or List<String> or"
                            + " List<YourPayload>.");
        }
        return element;
    }

    /** A batch listener's signature: the element type the converter reads, if it is not a String or a message. */
    static ListenerSignature ofBatch(Type element) {
        Class<?> type = ResolvableType.forType(element).toClass();
        boolean converted = type != String.class && type != DurableMessage.class;
        return new ListenerSignature(converted ? List.of(element) : List.of(), false);
    }

    private static String signature(Parameter[] parameters) {
        List<String> names = new ArrayList<>();
        for (Parameter parameter : parameters) {
            names.add(parameter.getParameterizedType().getTypeName() + " " + parameter.getName());
        }
        return "(" + String.join(", ", names) + ")";
    }
}

package io.github.pgiplisten.autoconfigure;

import static io.github.pgiplisten.autoconfigure.PgListenerAnnotationBeanPostProcessor.invalid;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.beans.factory.config.EmbeddedValueResolver;
import org.springframework.core.SimpleAliasRegistry;

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.InvalidChannelNameException;

/**
 * A {@link PgListener}'s attributes as the listener uses them: {@code ${…}} placeholders (and, in channels,
 * {@code #{…}} expressions) resolved as {@code @Value} does, channel names validated, the error handler bean looked
 * up. Anything that cannot be resolved fails start-up naming the method, rather than listening on a literal
 * {@code ${…}} channel.
 */
final class ListenerAttributes {

    private final @Nullable ConfigurableBeanFactory beanFactory;
    private final @Nullable EmbeddedValueResolver resolver;
    /** The error handler beans that listeners name, which are not the application's unless {@code @Primary}. */
    private final Set<String> namedErrorHandlers = ConcurrentHashMap.newKeySet();

    ListenerAttributes(@Nullable ConfigurableBeanFactory beanFactory) {
        this.beanFactory = beanFactory;
        this.resolver = beanFactory != null ? new EmbeddedValueResolver(beanFactory) : null;
    }

    /** {@code @PgListener(id)} resolved, or {@code beanName#methodName} when it has none. */
    String id(String beanMethod, PgListener annotation) {
        if (annotation.id().isEmpty()) {
            return beanMethod;
        }
        String named = resolve(beanMethod, "id", annotation.id());
        if (named.isBlank()) {
            throw invalid(
                    beanMethod, "has an empty id", "Give it an id, or leave the attribute out for " + beanMethod + ".");
        }
        return named;
    }

    /** An attribute's value with {@code ${…}} placeholders resolved. */
    private String resolve(String id, String attribute, String raw) {
        String value;
        try {
            value = resolver != null ? resolver.resolveStringValue(raw) : raw;
        } catch (IllegalArgumentException ex) {
            throw invalid(
                    id,
                    "has " + attribute + " '" + raw + "' whose placeholder cannot be resolved: " + ex.getMessage(),
                    "Define the property, or give the placeholder a default: ${name:default}.");
        }
        if (value == null || raw.contains("${") && value.contains("${")) {
            throw invalid(
                    id,
                    "has " + attribute + " '" + raw + "' whose placeholder cannot be resolved",
                    "Define the property, or give the placeholder a default: ${name:default}.");
        }
        return value;
    }

    boolean autoStartup(String id, String raw) {
        String value = resolve(id, "autoStartup", raw.isEmpty() ? "${pg-ip-listen.auto-startup:true}" : raw)
                .trim();
        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            throw invalid(
                    id,
                    "has autoStartup '" + raw + "', which is '" + value + "', neither true nor false",
                    "Set autoStartup to \"true\", \"false\" or a placeholder of one of them.");
        }
        return Boolean.parseBoolean(value);
    }

    @Nullable
    PgListenerErrorHandler errorHandler(String id, String name) {
        if (name.isEmpty() || beanFactory == null) {
            return null;
        }
        String bean = resolve(id, "errorHandler", name);
        if (!beanFactory.containsBean(bean)) {
            throw invalid(
                    id,
                    "names errorHandler '" + bean + "', and there is no bean of that name",
                    "Define a PgListenerErrorHandler bean named '" + bean + "', or leave errorHandler out to use "
                            + "the application's.");
        }
        if (!beanFactory.isTypeMatch(bean, PgListenerErrorHandler.class)) {
            throw invalid(
                    id,
                    "names errorHandler '" + bean + "', which is a " + beanFactory.getType(bean)
                            + ", not a PgListenerErrorHandler",
                    "Name a PgListenerErrorHandler bean.");
        }
        namedErrorHandlers.add(canonical(bean));
        return beanFactory.getBean(bean, PgListenerErrorHandler.class);
    }

    /** The bean a listener's {@code errorHandler} names, placeholders resolved and aliases followed. */
    String errorHandlerName(String id, PgListener annotation) {
        return canonical(resolve(id, "errorHandler", annotation.errorHandler()));
    }

    private String canonical(String bean) {
        return beanFactory instanceof SimpleAliasRegistry aliases ? aliases.canonicalName(bean) : bean;
    }

    /** The beans that listeners named in {@code errorHandler} so far. */
    Set<String> namedErrorHandlers() {
        return Set.copyOf(namedErrorHandlers);
    }

    List<String> channels(String id, PgListener annotation) {
        if (annotation.value().length == 0) {
            throw invalid(id, "names no channel", "Name at least one channel: @PgListener(\"orders\").");
        }
        Set<String> channels = new LinkedHashSet<>();
        for (String raw : annotation.value()) {
            String channel;
            try {
                // ${…} placeholders, then #{…} expressions, as @Value and the other messaging listeners do
                channel = resolver != null ? resolver.resolveStringValue(raw) : raw;
            } catch (IllegalArgumentException ex) {
                throw unresolvable(id, raw, ex.getMessage());
            } catch (BeansException ex) {
                throw invalid(
                        id,
                        "has channel '" + raw + "' whose expression cannot be evaluated: "
                                + ex.getMostSpecificCause().getMessage(),
                        "Fix the #{…} expression, or name the channel " + "without one.");
            }
            // a context without a strict placeholder configurer leaves unresolvable placeholders in place
            if (channel != null && raw.contains("${") && channel.contains("${")) {
                throw unresolvable(id, raw, "'" + channel + "' is left after resolving");
            }
            try {
                channels.add(ChannelName.validate(channel));
            } catch (InvalidChannelNameException ex) {
                throw invalid(
                        id,
                        "has an invalid channel" + (raw.equals(channel) ? "" : " (from '" + raw + "')") + ": "
                                + ex.getMessage(),
                        "Use a channel name of 1 to 63 UTF-8 bytes without NUL.");
            }
        }
        return new ArrayList<>(channels);
    }

    private static PgListenConfigurationException unresolvable(String id, String raw, @Nullable String detail) {
        return invalid(
                id,
                "has channel '" + raw + "' whose placeholder cannot be resolved: " + detail,
                "Define the property, or give the placeholder a default: ${name:default}.");
    }
}

package io.github.pgiplisten.autoconfigure;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeanWrapperImpl;
import org.springframework.boot.context.properties.bind.DataObjectPropertyName;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.bind.validation.ValidationErrors;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.origin.Origin;
import org.springframework.core.Ordered;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/**
 * Explains {@code pg-ip-listen.*} values that {@link PgListenProperties} rejects while Spring Boot binds them, in the
 * terms the user wrote them in: the property in kebab case ({@code pg-ip-listen.shutdown-timeout}, not the field
 * {@code shutdownTimeout}), the value as typed ({@code 0s}, not the bound {@code PT0S}) and where it comes from, what
 * the property takes, and its default. It runs before Spring Boot's own analysis of failed binding validations,
 * which would name the field and the bound value; anything else bound there is left to that.
 */
class PgListenPropertiesFailureAnalyzer extends AbstractFailureAnalyzer<BindValidationException> implements Ordered {

    private static final ConfigurationPropertyName PREFIX = ConfigurationPropertyName.of("pg-ip-listen");

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    protected @Nullable FailureAnalysis analyze(Throwable rootFailure, BindValidationException cause) {
        ValidationErrors errors = cause.getValidationErrors();
        if (!PREFIX.isAncestorOf(errors.getName()) && !PREFIX.equals(errors.getName())) {
            return null;
        }
        StringBuilder description = new StringBuilder("pg-ip-listen cannot take these values:\n");
        StringBuilder action = new StringBuilder("Change each to a value it takes, or remove it for its default:\n");
        for (ObjectError error : errors.getAllErrors()) {
            if (!(error instanceof FieldError field)) {
                return null;
            }
            String property = error.getObjectName() + "." + DataObjectPropertyName.toDashedForm(field.getField());
            ConfigurationProperty bound = bound(errors, property);
            String typed = bound != null ? String.valueOf(bound.getValue()) : String.valueOf(field.getRejectedValue());
            description
                    .append("\n    ")
                    .append(property)
                    .append(": ")
                    .append(typed)
                    .append('\n');
            Origin origin = bound != null ? bound.getOrigin() : null;
            if (origin != null) {
                description.append("        origin: ").append(origin).append('\n');
            }
            String allowed = allowed(field);
            if (allowed != null) {
                description.append("        takes: ").append(allowed).append('\n');
            }
            description
                    .append("        reason: ")
                    .append(field.getDefaultMessage())
                    .append('\n');
            action.append("    ").append(property).append(": ").append(allowed != null ? allowed : "see its reason");
            String fallback = defaultOf(property);
            if (fallback != null) {
                action.append(" (default ").append(fallback).append(')');
            }
            action.append('\n');
        }
        return new FailureAnalysis(description.toString(), action.toString(), cause);
    }

    private static @Nullable ConfigurationProperty bound(ValidationErrors errors, String property) {
        ConfigurationPropertyName name = ConfigurationPropertyName.adapt(property, '.');
        return errors.getBoundProperties().stream()
                .filter(candidate -> candidate.getName().equals(name))
                .findFirst()
                .orElse(null);
    }

    /** What the property takes, as {@link PgListenProperties} rejected it. */
    private static @Nullable String allowed(FieldError field) {
        Object[] arguments = field.getArguments();
        return PgListenProperties.INVALID.equals(field.getCode())
                        && arguments != null
                        && arguments.length == 1
                        && arguments[0] instanceof String allowed
                ? allowed
                : null;
    }

    /** The property's default, written as a user would write it; null when it has none (computed at start-up). */
    static @Nullable String defaultOf(String property) {
        if (!property.startsWith(PREFIX + ".")) {
            return null;
        }
        StringBuilder path = new StringBuilder();
        for (String segment : property.substring(PREFIX.toString().length() + 1).split("\\.")) {
            if (path.length() > 0) {
                path.append('.');
            }
            path.append(camel(segment));
        }
        Object value;
        try {
            value = new BeanWrapperImpl(new PgListenProperties()).getPropertyValue(path.toString());
        } catch (RuntimeException ex) {
            return null;
        }
        if (value instanceof Duration duration) {
            return simple(duration);
        }
        if (value instanceof DataSize size) {
            return size.toMegabytes() > 0
                            && size.toBytes() % DataSize.ofMegabytes(1).toBytes() == 0
                    ? size.toMegabytes() + "MB"
                    : size.toBytes() + "B";
        }
        return value == null ? null : value.toString();
    }

    /** 10s rather than 10000ms: the largest unit the duration is a whole number of. */
    private static String simple(Duration duration) {
        for (ChronoUnit unit : List.of(ChronoUnit.DAYS, ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS)) {
            if (!duration.isZero() && duration.toNanos() % unit.getDuration().toNanos() == 0) {
                return DurationStyle.SIMPLE.print(duration, unit);
            }
        }
        return DurationStyle.SIMPLE.print(duration);
    }

    private static String camel(String dashed) {
        StringBuilder camel = new StringBuilder();
        boolean upper = false;
        for (char c : dashed.toCharArray()) {
            if (c == '-') {
                upper = true;
            } else {
                camel.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return camel.toString();
    }
}

package io.github.pgiplisten.autoconfigure;

import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.aot.hint.ExecutableMode;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.TypeReference;

/**
 * The run-time reflection of pg-ip-listen that no bean or annotation tells Spring's AOT processing about, for a native
 * image: the engine names its socket factory (an internal class of the core, named here as the driver sees it, and
 * checked by this module's tests) to the PostgreSQL driver by class name, and the driver creates it through its public
 * {@code String} constructor. (The {@code @PgListener} methods and their payload types are
 * registered through {@code @Reflective} on the annotation; Spring Boot registers the configuration properties and
 * Spring the failure analyzer of {@code spring.factories}.) Listed in {@code META-INF/spring/aot.factories}.
 */
final class PgListenRuntimeHints implements RuntimeHintsRegistrar {

    private static final String SOCKET_FACTORY = "io.github.pgiplisten.core.connection.WakeableSocketFactory";

    @Override
    public void registerHints(RuntimeHints hints, @Nullable ClassLoader classLoader) {
        hints.reflection()
                .registerType(
                        TypeReference.of(SOCKET_FACTORY),
                        type -> type.withConstructor(List.of(TypeReference.of(String.class)), ExecutableMode.INVOKE));
    }
}

package io.github.pgiplisten;

import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.lang.reflect.Type;

import org.springframework.aot.hint.BindingReflectionHintsRegistrar;
import org.springframework.aot.hint.ExecutableMode;
import org.springframework.aot.hint.ReflectionHints;
import org.springframework.aot.hint.annotation.Reflective;
import org.springframework.aot.hint.annotation.ReflectiveProcessor;
import org.springframework.util.ClassUtils;

import io.github.pgiplisten.core.PgNotification;

/**
 * Registers for a native image what the run time reflects on for one {@link PgListener} method. {@code @PgListener}
 * names this processor through {@link Reflective}, so Spring's AOT processing applies it to every annotated method of
 * every bean class (and of its superclasses and interfaces), as it does for {@code @EventListener} and
 * {@code @MessageMapping}:
 * <ul>
 * <li>the method, for invocation: it is found by reflection at start-up and called through
 * {@link Method#invoke};</li>
 * <li>the method of the same signature on the declaring class's interfaces, for invocation: on a bean behind a JDK
 * proxy that one is called instead (Spring's {@code AopUtils.selectInvocableMethod});</li>
 * <li>the payload parameter's type, generics included ({@code List<Order>}, {@code Optional<Order>}), for data
 * binding: the {@link PgPayloadConverter} (Jackson by default) builds a reader for it at start-up. A
 * {@code String} payload and a {@link PgNotification} are handed over as they are, so they get nothing.</li>
 * </ul>
 * Which parameter is a payload follows the listener's argument rules (see {@link PgListener}); when those change,
 * this changes with them.
 */
final class PgListenerReflectiveProcessor implements ReflectiveProcessor {

    private final BindingReflectionHintsRegistrar bindingRegistrar = new BindingReflectionHintsRegistrar();

    @Override
    public void registerReflectionHints(ReflectionHints hints, AnnotatedElement element) {
        if (!(element instanceof Method method)) {
            return; // @PgListener goes on methods; on an annotation type it only composes another one
        }
        hints.registerMethod(method, ExecutableMode.INVOKE);
        for (Class<?> type : ClassUtils.getAllInterfacesForClassAsSet(method.getDeclaringClass())) {
            Method declared = ClassUtils.getMethodIfAvailable(type, method.getName(), method.getParameterTypes());
            if (declared != null) {
                hints.registerMethod(declared, ExecutableMode.INVOKE);
            }
        }
        Class<?>[] types = method.getParameterTypes();
        Type[] genericTypes = method.getGenericParameterTypes();
        for (int i = 0; i < types.length; i++) {
            if (types[i] != String.class && types[i] != PgNotification.class) {
                bindingRegistrar.registerReflectionHints(hints, genericTypes[i]);
            }
        }
    }
}

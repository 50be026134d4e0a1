package io.github.pgiplisten.autoconfigure;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.springframework.aop.scope.ScopedProxyUtils;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.AbstractBeanDefinition;

import io.github.pgiplisten.PgListenerErrorHandler;

/**
 * Which {@link PgListenerErrorHandler} bean is the application's, the one told of every listener that names none:
 * the {@code @Primary} one; else the only one that no {@code @PgListener(errorHandler = "…")} names; else, when every
 * such bean is named by a listener (or there is none), the default that logs. A handler declared for one listener
 * therefore never becomes every listener's by being the only bean of its type. Only beans Spring would inject by type
 * count (not a scoped proxy's target, not one declared no autowire candidate), in this context and its ancestors.
 * Chosen once all singletons exist, with the handlers that every listener names, lazy beans' listeners included.
 */
final class ApplicationErrorHandler {

    private ApplicationErrorHandler() {}

    /**
     * @param named the bean names that listeners name in their {@code errorHandler}
     * @throws PgListenConfigurationException when several beans could be the application's and none is primary
     */
    static PgListenerErrorHandler choose(ListableBeanFactory beans, Set<String> named) {
        List<String> primary = new ArrayList<>();
        List<String> unnamed = new ArrayList<>();
        for (String name : BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beans, PgListenerErrorHandler.class)) {
            if (!isCandidate(beans, name)) {
                continue;
            }
            if (isPrimary(beans, name)) {
                primary.add(name);
            }
            if (!named.contains(name)) {
                unnamed.add(name);
            }
        }
        if (primary.size() == 1) {
            return beans.getBean(primary.get(0), PgListenerErrorHandler.class);
        }
        if (primary.size() > 1) {
            throw new PgListenConfigurationException(
                    "Several PgListenerErrorHandler beans are @Primary " + primary
                            + ", so pg-ip-listen cannot tell which one is the application's.",
                    "Keep @Primary on one of them: the handler of every @PgListener that names none.");
        }
        if (unnamed.size() == 1) {
            return beans.getBean(unnamed.get(0), PgListenerErrorHandler.class);
        }
        if (unnamed.isEmpty()) {
            return new LoggingPgListenerErrorHandler();
        }
        throw new PgListenConfigurationException(
                "There are several PgListenerErrorHandler beans " + unnamed + " that no @PgListener names in its "
                        + "errorHandler, and none is @Primary, so pg-ip-listen cannot tell which one is the "
                        + "application's.",
                "Mark the application-wide one @Primary, or name each of the others in a @PgListener(errorHandler ="
                        + " \"…\").");
    }

    /**
     * Whether Spring would inject it by type: not the target behind a scoped proxy (the proxy is the candidate), not a
     * bean declared {@code autowireCandidate = false} or {@code defaultCandidate = false}.
     */
    private static boolean isCandidate(ListableBeanFactory beans, String name) {
        if (ScopedProxyUtils.isScopedTarget(name)) {
            return false;
        }
        if (beans instanceof ConfigurableListableBeanFactory configurable
                && configurable.containsBeanDefinition(name)) {
            BeanDefinition definition = configurable.getMergedBeanDefinition(name);
            return definition.isAutowireCandidate()
                    && (!(definition instanceof AbstractBeanDefinition abstractDefinition)
                            || abstractDefinition.isDefaultCandidate());
        }
        return true;
    }

    private static boolean isPrimary(ListableBeanFactory beans, String name) {
        return beans instanceof ConfigurableListableBeanFactory configurable
                && configurable.containsBeanDefinition(name)
                && configurable.getMergedBeanDefinition(name).isPrimary();
    }
}

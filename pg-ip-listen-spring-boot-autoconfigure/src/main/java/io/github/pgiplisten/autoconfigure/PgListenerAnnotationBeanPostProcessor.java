package io.github.pgiplisten.autoconfigure;

import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;
import org.springframework.aop.framework.AopInfrastructureBean;
import org.springframework.aop.framework.AopProxyUtils;
import org.springframework.aop.scope.ScopedProxyUtils;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.Ordered;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.messaging.handler.annotation.support.DefaultMessageHandlerMethodFactory;
import org.springframework.messaging.handler.invocation.HandlerMethodArgumentResolver;
import org.springframework.messaging.handler.invocation.InvocableHandlerMethod;
import org.springframework.util.ClassUtils;

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgPayloadConverter;

/**
 * Finds {@link PgListener} methods on every bean (through proxies), checks each one at once (placeholders, channel
 * names, parameters) and hands them all to the {@link PgListenerContainer} once every singleton exists; methods of
 * beans created later (lazy beans) are handed over as they appear. {@code @PgListener} methods must be on singleton
 * beans: a prototype or a bean of any other scope fails start-up (or, when its definition does not tell its type, the
 * making of an instance). A problem fails start-up with a {@link PgListenConfigurationException} naming
 * {@code bean#method}.
 */
class PgListenerAnnotationBeanPostProcessor
        implements BeanPostProcessor, BeanFactoryAware, SmartInitializingSingleton, Ordered {

    private final Set<Class<?>> classesWithoutListeners = ConcurrentHashMap.newKeySet();
    private final List<PgListenerEndpoint> endpoints = new CopyOnWriteArrayList<>();
    private volatile @Nullable PgListenerContainer container;
    private @Nullable ConfigurableBeanFactory beanFactory;
    private ListenerAttributes attributes = new ListenerAttributes(null);

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beanFactory = (ConfigurableBeanFactory) beanFactory;
        this.attributes = new ListenerAttributes(this.beanFactory);
    }

    @Override
    public int getOrder() {
        return LOWEST_PRECEDENCE;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
        if (bean instanceof AopInfrastructureBean) {
            return bean;
        }
        Map<Method, PgListener> methods = listenerMethods(AopProxyUtils.ultimateTargetClass(bean));
        if (methods.isEmpty()) {
            return bean;
        }
        String scope = scopeOtherThanSingleton(beanName);
        if (scope != null) {
            throw wrongScope(beanName, methods, scope); // a prototype made after start-up, of a type not declared
        }
        List<PgListenerEndpoint> found = new ArrayList<>();
        methods.forEach((method, annotation) -> found.add(endpoint(bean, beanName, method, annotation)));
        PgListenerContainer registered = container;
        if (registered != null) {
            registered.register(found); // a lazy bean, created after start-up
        } else {
            endpoints.addAll(found);
        }
        return bean;
    }

    @Override
    public void afterSingletonsInstantiated() {
        rejectListenersOnBeansThatAreNotSingletons();
        if (beanFactory instanceof ConfigurableListableBeanFactory listable) {
            PgListenerContainer target = listable.getBean(PgListenerContainer.class);
            target.registry().useErrorHandler(ApplicationErrorHandler.choose(listable, namedErrorHandlers()));
            target.register(endpoints);
            endpoints.clear();
            container = target;
        }
    }

    private Map<Method, PgListener> listenerMethods(Class<?> targetClass) {
        if (classesWithoutListeners.contains(targetClass)
                || !AnnotationUtils.isCandidateClass(targetClass, PgListener.class)) {
            return Map.of();
        }
        Map<Method, PgListener> methods =
                MethodIntrospector.selectMethods(targetClass, (MethodIntrospector.MetadataLookup<PgListener>)
                        method -> AnnotatedElementUtils.findMergedAnnotation(method, PgListener.class));
        if (methods.isEmpty()) {
            classesWithoutListeners.add(targetClass);
        }
        return methods;
    }

    /**
     * The error handlers that listeners name: those of the singletons made so far, and those of lazy singletons not
     * made yet (read from their definitions), so that a handler named only by a lazy bean's listener is not taken for
     * the application's.
     */
    private Set<String> namedErrorHandlers() {
        Set<String> named = new HashSet<>(attributes.namedErrorHandlers());
        forEachListenerDefinition(
                (listable, name, definition) ->
                        definition.isSingleton() && definition.isLazyInit() && !listable.containsSingleton(name),
                (name, definition, methods) -> methods.forEach((method, annotation) -> {
                    if (!annotation.errorHandler().isEmpty()) {
                        named.add(attributes.errorHandlerName(name + "#" + method.getName(), annotation));
                    }
                }));
        return named;
    }

    /**
     * A listener is registered once, for the one instance of a singleton. Each instance of a prototype or of a bean
     * in any other scope would register again, and nothing would ever remove it; so such beans fail start-up. Their
     * instances do not exist yet at start-up: their definitions tell the scope and, mostly, the type.
     */
    private void rejectListenersOnBeansThatAreNotSingletons() {
        forEachListenerDefinition(
                (listable, name, definition) -> !definition.isSingleton() && !definition.isAbstract(),
                (name, definition, methods) -> {
                    throw wrongScope(name, methods, definition.getScope());
                });
    }

    /**
     * The {@code @PgListener} methods of the bean definitions that {@code which} picks, read from each definition's
     * type without making the bean (or its FactoryBean); a definition whose type cannot be told now is skipped.
     */
    private void forEachListenerDefinition(DefinitionFilter which, ListenerDefinition action) {
        if (!(beanFactory instanceof ConfigurableListableBeanFactory listable)) {
            return;
        }
        for (String name : listable.getBeanDefinitionNames()) {
            BeanDefinition definition = listable.getMergedBeanDefinition(name);
            if (!which.test(listable, name, definition)) {
                continue;
            }
            Class<?> type;
            try {
                type = listable.getType(name, false);
            } catch (RuntimeException ex) {
                continue;
            }
            if (type != null) {
                Map<Method, PgListener> methods = listenerMethods(ClassUtils.getUserClass(type));
                if (!methods.isEmpty()) {
                    action.accept(name, definition, methods);
                }
            }
        }
    }

    @FunctionalInterface
    private interface DefinitionFilter {
        boolean test(ConfigurableListableBeanFactory listable, String name, BeanDefinition definition);
    }

    @FunctionalInterface
    private interface ListenerDefinition {
        void accept(String name, BeanDefinition definition, Map<Method, PgListener> methods);
    }

    /** The scope of the bean when it is not a singleton (a FactoryBean's objects that are not count as prototypes). */
    private @Nullable String scopeOtherThanSingleton(String beanName) {
        if (beanFactory == null || !beanFactory.containsBean(beanName) || beanFactory.isSingleton(beanName)) {
            return null;
        }
        String scope = beanFactory.getMergedBeanDefinition(beanName).getScope();
        return scope == null || scope.isEmpty() || scope.equals(ConfigurableBeanFactory.SCOPE_SINGLETON)
                ? ConfigurableBeanFactory.SCOPE_PROTOTYPE
                : scope;
    }

    private static PgListenConfigurationException wrongScope(
            String beanName, Map<Method, PgListener> methods, @Nullable String scope) {
        // the target of a scoped proxy is known to the user by the proxy's name
        String name =
                ScopedProxyUtils.isScopedTarget(beanName) ? ScopedProxyUtils.getOriginalBeanName(beanName) : beanName;
        Method first = methods.keySet().stream()
                .min(Comparator.comparing(Method::getName).thenComparing(Method::toGenericString))
                .orElseThrow();
        return invalid(
                name + "#" + first.getName(),
                "is on a bean of scope '" + scope + "': @PgListener methods "
                        + "must be on singleton beans, because each instance of a prototype or scoped bean would register "
                        + "its listener again and none would ever be removed",
                "Put the @PgListener method on a singleton "
                        + "bean (the default scope); when it needs a prototype or scoped object, inject an "
                        + "ObjectProvider of it and get one per notification.");
    }

    private PgListenerEndpoint endpoint(Object bean, String beanName, Method method, PgListener annotation) {
        String id = attributes.id(beanName + "#" + method.getName(), annotation);
        boolean autoStartup = attributes.autoStartup(id, annotation.autoStartup());
        PgListenerErrorHandler errorHandler = attributes.errorHandler(id, annotation.errorHandler());
        if (java.lang.reflect.Modifier.isStatic(method.getModifiers())) {
            throw invalid(id, "is static; @PgListener methods must be instance methods", "Make it an instance method.");
        }
        if (org.springframework.core.KotlinDetector.isSuspendingFunction(method)) {
            throw invalid(
                    id,
                    "is a Kotlin suspend function, which pg-ip-listen does not call yet (it would have to "
                            + "wait for the coroutine to keep the channel's order)",
                    "Make it a plain function; call " + "runBlocking inside it if it must suspend.");
        }
        List<String> channels = attributes.channels(id, annotation);
        Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
        List<HandlerMethodArgumentResolver> custom = customResolvers();
        if (annotation.durable() && !annotation.errorHandler().isEmpty()) {
            throw invalid(
                    id,
                    "is durable and names the error handler '" + annotation.errorHandler() + "', which a durable"
                            + " listener does not use: what it throws rolls its transaction back, the message is"
                            + " retried (pg-ip-listen.durable.max-attempts) and then goes to the dead-letter table",
                    "Remove errorHandler; to act on failures, listen for PgListenEvent.DurableListenerFailed and"
                            + " PgListenEvent.DeadLettered.");
        }
        Type batchElement = annotation.batch()
                ? ListenerSignature.batchElement(
                        id, method, ClassUtils.getUserClass(AopUtils.getTargetClass(bean)), annotation.durable())
                : null;
        ListenerSignature signature = batchElement != null
                ? ListenerSignature.ofBatch(batchElement)
                : ListenerSignature.of(id, method, invocable, custom, annotation.durable());
        PgPayloadConverter converter = null;
        if (!signature.convertedTypes().isEmpty()) {
            converter = converter();
            if (converter == null) {
                throw invalid(
                        id,
                        "takes " + signature.convertedTypes().get(0).getTypeName() + ", which needs a "
                                + "PgPayloadConverter, and there is none",
                        "Keep spring-boot-starter-jackson (the "
                                + "starter brings it: was it excluded?), define a PgPayloadConverter bean, or "
                                + "take the payload as a String.");
            }
        }
        PayloadArgumentResolver payload = new PayloadArgumentResolver(id, converter, validator());
        List<HandlerMethodArgumentResolver> resolvers = new ArrayList<>(custom);
        resolvers.add(payload);
        DefaultMessageHandlerMethodFactory factory = new DefaultMessageHandlerMethodFactory();
        factory.setCustomArgumentResolvers(resolvers);
        if (beanFactory != null) {
            factory.setBeanFactory(beanFactory);
        }
        factory.afterPropertiesSet();
        InvocableHandlerMethod handler = factory.createInvocableHandlerMethod(bean, invocable);
        PgListenerEndpoint.Direct direct = signature.plain()
                ? new PgListenerEndpoint.Direct(
                        bean, invocable, invocable.getParameterTypes(), invocable.getGenericParameterTypes(), payload)
                : null;
        PgListenerEndpoint.Batch batch = batchElement != null
                ? new PgListenerEndpoint.Batch(
                        bean, invocable, ResolvableType.forType(batchElement).toClass(), batchElement, payload)
                : null;
        return new PgListenerEndpoint(
                id,
                channels,
                handler,
                direct,
                batch,
                signature.convertedTypes(),
                converter,
                autoStartup,
                annotation.durable(),
                errorHandler);
    }

    /** The application's argument resolvers for listener methods (beans of Spring messaging's type). */
    private List<HandlerMethodArgumentResolver> customResolvers() {
        if (!(beanFactory instanceof ConfigurableListableBeanFactory listable)) {
            return List.of();
        }
        return listable.getBeanProvider(HandlerMethodArgumentResolver.class)
                .orderedStream()
                .toList();
    }

    /** The validator for {@code @Valid} payloads: Boot's {@code defaultValidator}, or the only one. */
    private org.springframework.validation.@Nullable Validator validator() {
        if (beanFactory == null) {
            return null;
        }
        if (beanFactory.containsBean("defaultValidator")
                && beanFactory.isTypeMatch("defaultValidator", org.springframework.validation.Validator.class)) {
            return beanFactory.getBean("defaultValidator", org.springframework.validation.Validator.class);
        }
        return beanFactory
                .getBeanProvider(org.springframework.validation.Validator.class)
                .getIfUnique();
    }

    private @Nullable PgPayloadConverter converter() {
        return beanFactory == null
                ? null
                : beanFactory.getBeanProvider(PgPayloadConverter.class).getIfAvailable();
    }

    /** A start-up failure naming the listener method, as every check of one reports it. */
    static PgListenConfigurationException invalid(String id, String problem, String action) {
        return new PgListenConfigurationException("@PgListener method " + id + " " + problem, action);
    }
}

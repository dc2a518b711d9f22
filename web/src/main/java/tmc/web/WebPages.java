package tmc.web;

import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.ee11.servlet.ServletMapping;

/** Mounts the pages on the gateway's servlet context: the one call the gateway makes. */
public final class WebPages {
    private WebPages() {
    }

    /**
     * Registers {@link WebServlet} at {@code /console/*} (the tenant console), {@code /admin} (the admin console),
     * {@code /web/*} (scripts, styles, noVNC) and the context root (a redirect to {@code /admin}).
     */
    public static WebServlet register(ServletContextHandler context, WebSettings settings) {
        WebServlet servlet = new WebServlet(settings);
        ServletHolder holder = new ServletHolder("tmc-web", servlet);
        ServletMapping mapping = new ServletMapping();
        mapping.setServletName(holder.getName());
        mapping.setPathSpecs(new String[] {"/console/*", "/admin", "/web/*", ""});
        context.getServletHandler().addServlet(holder);
        context.getServletHandler().addServletMapping(mapping);
        return servlet;
    }
}

<?php

namespace Site\Core;

/**
 * A plain HTTP response.
 */
final class Response {

  public function __construct(
    private string $body,
    private int $status = 200,
    private array $headers = ['Content-Type' => 'text/html; charset=utf-8'],
  ) {}

  public function send(): void {
    http_response_code($this->status);
    foreach ($this->headers as $name => $value) {
      header($name . ': ' . $value);
    }
    echo $this->body;
  }

}

/**
 * Loads settings and enabled modules, then routes a path to a page callback.
 */
final class Kernel {

  private array $routes = [];

  public function __construct(private string $root, private string $sitePath) {
    global $settings, $databases;
    $settings = [];
    $databases = [];
    require $this->root . '/' . $this->sitePath . '/settings.php';
    foreach ($settings['modules'] ?? [] as $module) {
      $this->loadModule($module);
    }
  }

  private function loadModule(string $module): void {
    $file = sprintf('%s/modules/custom/%s/%s.module', $this->root, $module, $module);
    if (!is_file($file)) {
      site_log('kernel', "module $module is enabled but missing");
      return;
    }
    require_once $file;
    $hook = $module . '_routes';
    if (function_exists($hook)) {
      $this->routes += $hook();
    }
  }

  public function handle(string $uri): Response {
    $path = '/' . trim(parse_url($uri, PHP_URL_PATH) ?: '/', '/');
    $callback = $this->routes[$path] ?? NULL;
    if ($callback === NULL) {
      return new Response($this->page('Page not found', '<p>The requested page could not be found.</p>'), 404);
    }
    [$title, $content] = $callback();
    return new Response($this->page($title, $content));
  }

  private function page(string $title, string $content): string {
    $site_name = site_setting('site_name', 'Drupal');
    ob_start();
    include $this->root . '/themes/custom/plain/page.tpl.php';
    return ob_get_clean();
  }

}

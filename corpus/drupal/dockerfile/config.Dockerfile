
EXPOSE 80
STOPSIGNAL SIGWINCH
ENTRYPOINT ["docker-php-entrypoint"]
CMD ["apache2-foreground"]

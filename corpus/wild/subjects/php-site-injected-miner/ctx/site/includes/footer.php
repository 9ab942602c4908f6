<footer>
<p>&copy; <?= date('Y') ?> <?= SITE_NAME ?></p>
</footer>
</body>
</html>

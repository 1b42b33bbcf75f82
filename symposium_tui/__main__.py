from symposium_tui.cli import main

raise SystemExit(main())
